"""The actuator contract of the runbook: health, info and Prometheus metrics."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from devstack.supervisor import ProcessSpec
from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.ports import free_port
from tests.support.stack import Stack
from tests.support.tcp_proxy import TcpProxy
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


async def test_health_is_up_with_db_rabbit_and_temporal(api: httpx.AsyncClient) -> None:
    resp = await api.get("/actuator/health")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "UP"
    for component in ("db", "rabbit", "temporal"):
        assert body["components"][component]["status"] == "UP"


async def test_liveness_and_readiness(api: httpx.AsyncClient) -> None:
    assert (await api.get("/actuator/health/liveness")).json() == {"status": "UP"}
    ready = await api.get("/actuator/health/readiness")
    assert ready.status_code == 200 and ready.json()["status"] == "UP"


async def test_info_has_hostname_version_and_commit(api: httpx.AsyncClient) -> None:
    body = (await api.get("/actuator/info")).json()
    assert body["hostname"]
    assert body["app"]["version"]
    assert body["git"]["commit"]


async def test_prometheus_exposes_the_runbook_metrics(api: httpx.AsyncClient) -> None:
    assert (
        await api.post("/api/tickets", json=ticket_body(await add_branch(api), "EMPRESAS"))
    ).status_code == 201
    text = (await api.get("/actuator/prometheus")).text
    assert (
        'http_server_requests_seconds_bucket{le="0.05",method="POST",status="201",uri="/api/tickets"}'
        in text
    )
    assert 'tickets_created_total{queue="EMPRESAS"}' in text
    assert "telegram_messages_sent_total" in text
    assert "telegram_errors_total" in text
    assert "telegram_delivery_seconds_bucket" in text
    assert "process_resident_memory_bytes" in text


async def test_tickets_created_counter_counts_each_new_ticket(api: httpx.AsyncClient) -> None:
    def value(text: str) -> float:
        for line in text.splitlines():
            if line.startswith('tickets_created_total{queue="GERENCIA"}'):
                return float(line.split()[-1])
        raise AssertionError("counter missing")

    before = value((await api.get("/actuator/prometheus")).text)
    branch = await add_branch(api)
    for _ in range(3):
        assert (
            await api.post("/api/tickets", json=ticket_body(branch, "GERENCIA"))
        ).status_code == 201
    after = value((await api.get("/actuator/prometheus")).text)
    assert after - before == 3


@pytest.fixture
async def proxied_api(stack: Stack) -> AsyncIterator[tuple[httpx.AsyncClient, TcpProxy]]:
    """A second API process whose RabbitMQ connection goes through a proxy we can cut."""
    proxy = TcpProxy("127.0.0.1", 5672)
    port = await proxy.start()
    api_port = free_port()
    env = {**stack.env, "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{port}/{stack.vhost}"}
    spec = ProcessSpec(
        name="api-proxied",
        argv=[
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(api_port),
        ],
        env=env,
        cwd=stack.spec("api").cwd,
        ready_url=f"http://127.0.0.1:{api_port}/actuator/health/liveness",
    )
    await stack.supervisor.start(spec)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as client:
            yield client, proxy
    finally:
        await stack.supervisor.stop("api-proxied")
        await proxy.cut()


async def test_health_reports_rabbit_down_with_503(
    proxied_api: tuple[httpx.AsyncClient, TcpProxy],
) -> None:
    client, proxy = proxied_api

    async def status(expected: int) -> httpx.Response | None:
        resp = await client.get("/actuator/health")
        return resp if resp.status_code == expected else None

    up = await eventually(lambda: status(200), what="health UP through the proxy")
    assert up.json()["components"]["rabbit"]["status"] == "UP"

    await proxy.cut()
    down = await eventually(lambda: status(503), what="health 503 once RabbitMQ is unreachable")
    body = down.json()
    assert body["status"] == "DOWN"
    assert body["components"]["rabbit"]["status"] == "DOWN"
    assert body["components"]["db"]["status"] == "UP"
    assert body["components"]["temporal"]["status"] == "UP"

    await proxy.restore()
    await eventually(lambda: status(200), what="health UP again after RabbitMQ returns")


async def test_request_id_is_echoed_or_made(api: httpx.AsyncClient) -> None:
    given = await api.get("/actuator/health/liveness", headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await api.get("/actuator/health/liveness")
    assert len(made.headers["x-request-id"]) == 32


async def test_logs_are_json_with_request_id_and_no_national_id(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    body = ticket_body(await add_branch(api))
    resp = await api.post(
        "/api/tickets", json={**body, "queue": "NOPE"}, headers={"X-Request-Id": "req-42"}
    )
    assert resp.status_code == 422
    resp = await api.post("/api/tickets", json=body, headers={"X-Request-Id": "req-43"})
    assert resp.status_code == 201
    lines = stack.supervisor.output("worker") + stack.supervisor.output("api")
    # From the record's own start: a message may hold "] " (a list's repr, say).
    records = [json.loads(line[line.index('{"ts"') :]) for line in lines if '{"ts"' in line]
    assert records, "processes log JSON lines"
    assert all({"ts", "level", "service", "msg"} <= set(r) for r in records)
    assert not any(str(body["nationalId"]) in line for line in lines)


async def test_every_process_reports_the_version_it_runs(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """A process deploy moves one process at a time: each one says which release it runs."""
    version = (await api.get("/actuator/info")).json()["app"]["version"]
    scrapes = {"api": f"{stack.api_url}/actuator/prometheus"}
    for process, port in (("worker", "WORKER_METRICS_PORT"), ("bridge", "BRIDGE_METRICS_PORT")):
        scrapes[process] = f"http://127.0.0.1:{stack.env[port]}/metrics"
    async with httpx.AsyncClient(timeout=10) as client:
        for process, url in scrapes.items():
            text = (await client.get(url)).text
            line = f'ticketero_build_info{{process="{process}",version="{version}"}} 1.0'
            assert line in text, (process, [x for x in text.splitlines() if "build" in x])
