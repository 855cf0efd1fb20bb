"""The RabbitMQ panels and alerts have data: every `rabbitmq_*` series they query is served
by the rabbitmq_prometheus plugin (enabled by `make services` / the test stack) on the
endpoint and with the parameters deploy/prometheus/prometheus.yml scrapes."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import aio_pika
import httpx
import pytest

from devstack.services import (
    delete_vhost,
    ensure_rabbitmq_management,
    ensure_rabbitmq_prometheus,
    ensure_vhost,
    prometheus_url,
)
from settings import get_settings
from tests.observability.support import PROMETHEUS_YML, alert_rules, load_yaml, query_panels

MANAGEMENT_URL = get_settings().rabbitmq_management_url
METRIC = re.compile(r"\brabbitmq_[a-z_]+\b")
JOB = re.compile(r'job\s*=\s*"([^"]+)"')


def rabbitmq_jobs() -> dict[str, dict[str, object]]:
    """Scrape jobs whose target is the plugin's port: job name -> path and params."""
    jobs = {}
    for job in load_yaml(PROMETHEUS_YML)["scrape_configs"]:
        targets = [t for c in job.get("static_configs", []) for t in c["targets"]]
        if any(t.endswith(":15692") for t in targets):
            jobs[job["job_name"]] = {
                "path": job.get("metrics_path", "/metrics"),
                "params": job.get("params", {}),
                "keep": [
                    c["regex"]
                    for c in job.get("metric_relabel_configs", [])
                    if c["action"] == "keep"
                ],
            }
    return jobs


def queried() -> list[tuple[str, str, str | None]]:
    """(where, metric, job or None) for every rabbitmq_* series a panel or alert queries."""
    found = []
    exprs = [
        (f"{board}: {panel['title']}", t["expr"])
        for board, panel in query_panels()
        for t in panel["targets"]
        if "expr" in t
    ] + [(f"alert {r['alert']}", r["expr"]) for r in alert_rules()]
    for where, expr in exprs:
        job = JOB.search(expr)
        for metric in METRIC.findall(expr):
            found.append((where, metric, job.group(1) if job else None))
    return found


@pytest.fixture
async def telegram_queue() -> AsyncIterator[None]:
    """A `ticketero.telegram.v2` queue with a consumer, so the per-queue series have samples."""
    await ensure_rabbitmq_management(MANAGEMENT_URL)
    vhost = f"ticketero_prom_{uuid.uuid4().hex[:8]}"
    await ensure_vhost(MANAGEMENT_URL, vhost)
    connection = await aio_pika.connect(f"amqp://guest:guest@127.0.0.1:5672/{vhost}")
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue("ticketero.telegram.v2", auto_delete=True)
        await channel.default_exchange.publish(aio_pika.Message(b"x"), routing_key=queue.name)

        async def ack(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()

        await queue.consume(ack)
        yield
    finally:
        await connection.close()
        await delete_vhost(MANAGEMENT_URL, vhost)


def series(body: str, metric: str, keep: list[str]) -> list[str]:
    """`metric`'s sample lines, as many as survive the job's `keep` relabelling on `queue`."""
    lines = [line for line in body.splitlines() if re.match(rf"{metric}(\{{| )", line)]
    for regex in keep:
        lines = [
            line
            for line in lines
            if (label := re.search(r'queue="([^"]*)"', line)) and re.fullmatch(regex, label[1])
        ]
    return lines


async def test_every_rabbitmq_series_the_dashboards_and_alerts_use_has_data(
    telegram_queue: None,
) -> None:
    await ensure_rabbitmq_prometheus(MANAGEMENT_URL)
    jobs = rabbitmq_jobs()
    assert {"rabbitmq", "rabbitmq-queues"} <= set(jobs), jobs
    uses = queried()
    assert {m for _, m, _ in uses} >= {
        "rabbitmq_detailed_queue_messages_ready",
        "rabbitmq_global_messages_received_total",
    }, uses
    base = prometheus_url(MANAGEMENT_URL).removesuffix("/metrics")
    scraped: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        for name, job in jobs.items():
            resp = await http.get(f"{base}{job['path']}", params=job["params"])  # type: ignore[arg-type]
            assert resp.status_code == 200, (name, resp.text[:300])
            scraped[name] = resp.text
    for where, metric, job_name in uses:
        candidates = [job_name] if job_name else list(jobs)
        found = [
            line
            for name in candidates
            for line in series(scraped[name], metric, jobs[name]["keep"])  # type: ignore[arg-type]
        ]
        assert found, f"{where}: {metric} has no series from job(s) {candidates}"
