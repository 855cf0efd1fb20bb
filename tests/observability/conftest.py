"""A real Prometheus scraping the session's stack every second, with the production rules.

The scrape jobs keep the production names (deploy/prometheus/prometheus.yml) so the
dashboards' and alerts' `job=` selectors mean the same thing; only discovery changes:
static loopback targets instead of Docker DNS.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from ops import runs as ops_runs
from ops.contracts import OpsReport, Step
from tests.observability.support import PROMETHEUS_YML, RULES_DIR, load_yaml, port_open, tool
from tests.support.branches import add_branch
from tests.support.data import chat_id, ticket_body
from tests.support.ports import free_port
from tests.support.stack import Stack
from tests.support.staff import add_advisor
from tests.support.wait import eventually

RABBITMQ_METRICS = ("127.0.0.1", 15692)


@dataclass
class RunningPrometheus:
    url: str
    config: dict[str, Any]
    #: production job -> why the test stack cannot feed it (absent from `config`)
    unscraped: dict[str, str] = field(default_factory=dict)

    @property
    def jobs(self) -> set[str]:
        return {job["job_name"] for job in self.config["scrape_configs"]}


def scrape_targets(stack: Stack, self_port: int) -> tuple[dict[str, str], dict[str, str]]:
    """Loopback target of each production job the test stack feeds; the others, with why."""
    api = urlsplit(stack.api_url)
    targets = {
        "prometheus": f"127.0.0.1:{self_port}",
        "api": f"{api.hostname}:{api.port}",
        "worker": f"127.0.0.1:{stack.env['WORKER_METRICS_PORT']}",
        "worker-sdk": f"127.0.0.1:{stack.env['WORKER_SDK_METRICS_PORT']}",
        "bridge": f"127.0.0.1:{stack.env['BRIDGE_METRICS_PORT']}",
        "ops-worker": f"127.0.0.1:{stack.env['OPS_WORKER_METRICS_PORT']}",
    }
    unscraped = {
        "node": "node-exporter is an optional compose profile; nothing exports host metrics here",
    }
    temporal_port = stack.env.get("TEMPORAL_METRICS_PORT")
    if temporal_port:
        targets["temporal"] = f"127.0.0.1:{temporal_port}"
    else:
        unscraped["temporal"] = (
            "the test stack's Temporal dev server is started without --metrics-port"
        )
    if port_open(*RABBITMQ_METRICS):
        rabbit = f"{RABBITMQ_METRICS[0]}:{RABBITMQ_METRICS[1]}"
        targets["rabbitmq"] = targets["rabbitmq-queues"] = rabbit
    else:
        why = "the local RabbitMQ has no rabbitmq_prometheus plugin (port 15692 closed)"
        unscraped["rabbitmq"] = unscraped["rabbitmq-queues"] = why
    return targets, unscraped


def scrape_config(stack: Stack, self_port: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The production configuration with 1 s intervals and loopback static targets."""
    production = load_yaml(PROMETHEUS_YML)
    targets, unscraped = scrape_targets(stack, self_port)
    jobs = []
    for job in production["scrape_configs"]:
        name = job["job_name"]
        if name not in targets:
            assert name in unscraped, f"production job {name} has no test target nor reason"
            continue
        kept = {
            key: value
            for key, value in job.items()
            if not key.endswith("_sd_configs") and key != "static_configs"
        }
        jobs.append(
            {
                **kept,
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "static_configs": [{"targets": [targets[name]]}],
            }
        )
    fast = {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    config: dict[str, Any] = {
        "global": {**production["global"], **fast},
        "rule_files": [str(RULES_DIR / "*.yml")],
        "scrape_configs": jobs,
    }
    return config, unscraped


@pytest.fixture(scope="package")
def prometheus_process(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPrometheus]:
    binary = tool("prometheus")
    workdir = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    config, unscraped = scrape_config(stack, port)
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    log = (workdir / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=str(workdir),
    )
    try:
        yield RunningPrometheus(f"http://127.0.0.1:{port}", config, unscraped)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def instant(client: httpx.AsyncClient, promql: str) -> dict[str, Any]:
    """GET /api/v1/query; the whole answer (status, data or error)."""
    resp = await client.get("/api/v1/query", params={"query": promql})
    body: dict[str, Any] = resp.json()
    return body


@pytest.fixture(scope="package")
async def prometheus(
    prometheus_process: RunningPrometheus, stack: Stack
) -> AsyncIterator[RunningPrometheus]:
    """Prometheus ready, rules loaded, and every target the stack serves scraped once."""
    running = prometheus_process
    async with httpx.AsyncClient(base_url=running.url, timeout=5.0) as client:

        async def ready() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return (await client.get("/-/ready")).status_code == 200
            return False

        await eventually(ready, timeout=30, interval=0.2, what="prometheus to be ready")

        async def rules_loaded() -> bool:
            groups = (await client.get("/api/v1/rules")).json()["data"]["groups"]
            return len(groups) > 0

        await eventually(rules_loaded, timeout=10, interval=0.2, what="rules loaded")

        required = {"prometheus", "api", "worker", "worker-sdk", "bridge"}

        async def scraped() -> bool:
            up = (await instant(client, "up == 1"))["data"]["result"]
            return required <= {sample["metric"]["job"] for sample in up}

        await eventually(scraped, timeout=30, interval=0.2, what=f"jobs {sorted(required)} up")
    yield running


@dataclass
class Traffic:
    branch: str
    completed: str
    waiting: list[str]


async def customer_requests(api: httpx.AsyncClient, branch: str) -> None:
    """A creation, a read, a 404 and a 422: the API's request series, one of each."""
    created = await api.post("/api/tickets", json=ticket_body(branch, "GERENCIA"))
    assert created.status_code == 201, created.text
    assert (await api.get(f"/api/tickets/{created.json()['reference']}")).status_code == 200
    assert (await api.get(f"/api/tickets/{uuid.uuid4()}")).status_code == 404
    assert (await api.post("/api/tickets", json={"queue": "CAJA"})).status_code == 422


@pytest.fixture(scope="package")
async def traffic(
    prometheus: RunningPrometheus, api: httpx.AsyncClient, db: AsyncEngine
) -> Traffic:
    """Requests Prometheus sees twice (a rate needs a series to exist before it grows), a
    ticket served from creation to completion with Telegram, tickets left waiting, and two
    operations runs."""
    branch = await add_branch(api, "Observabilidad")
    await customer_requests(api, branch)
    async with httpx.AsyncClient(base_url=prometheus.url, timeout=5.0) as client:

        async def seen() -> bool:
            query = 'http_server_requests_seconds_count{job="api", status="422"}'
            return bool((await instant(client, query))["data"]["result"])

        await eventually(seen, timeout=15, interval=0.2, what="the first requests scraped")
    await customer_requests(api, branch)

    advisor = await add_advisor(db, api, branch, desk=5, queues=["CAJA"])
    resp = await api.put(
        "/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=advisor.headers
    )
    assert resp.status_code == 200, resp.text
    created = await api.post("/api/tickets", json=ticket_body(branch, telegramChatId=chat_id()))
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]

    async def called() -> bool:
        status: str = (await api.get(f"/api/tickets/{reference}")).json()["status"]
        return status == "CALLED"

    await eventually(called, timeout=20, what="the new ticket to be called")
    for action in ("start", "complete"):
        resp = await api.post(f"/api/tickets/{reference}/{action}", headers=advisor.headers)
        assert resp.status_code == 200, resp.text
    waiting = []
    for _ in range(2):
        resp = await api.post("/api/tickets", json=ticket_body(branch, "GERENCIA"))
        assert resp.status_code == 201, resp.text
        waiting.append(resp.json()["reference"])

    now = datetime.now(UTC)
    tag = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    await ops_runs.store_report(
        db,
        OpsReport(
            kind="backup",
            workflow_id=f"backup-observability-{tag}",
            outcome="ok",
            summary="observability test: a backup run",
            steps=[Step(name="dump", outcome="ok")],
            started_at=now,
            finished_at=now,
        ),
    )
    await ops_runs.store_report(
        db,
        OpsReport(
            kind="maintenance_daily",
            workflow_id=f"maintenance-daily-observability-{tag}",
            outcome="alert",
            summary="observability test: disk over the threshold",
            steps=[Step(name="disk", outcome="alert", detail="disk usage high: / 95%")],
            started_at=now,
            finished_at=now,
        ),
    )
    return Traffic(branch=branch, completed=reference, waiting=waiting)


def stack_log_dir(stack: Stack) -> Path:
    log_dir = stack.supervisor.log_dir
    assert log_dir is not None
    return log_dir


@pytest.fixture(scope="session")
def repo_env() -> dict[str, str]:
    """The environment for commands run from the runbook: ours without RabbitMQ creds."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")}
