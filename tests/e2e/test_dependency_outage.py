"""An API whose PostgreSQL, RabbitMQ and Temporal are each cut in turn (issue 14, point 5).

A second API process and a worker of its own on the session stack reach the three
through TCP proxies we can cut (connections dropped, new ones refused). While one is
away, requests that need it answer 503 with `Retry-After` and a catalogue message naming
it within a few seconds (never a 500, never a hang), requests that do not need it keep
working, and the health names the component DOWN. Once it is back the API serves again
without a restart, and the creations that got 503, retried with their
`Idempotency-Key`, leave exactly one ticket each: no ticket without its workflow, no
number consumed twice or skipped. Each dependency is lost both ways a network loses a
server: `cut` (reset and refused) and `stall` (black hole: nothing answers).

Long because one outage needs its own processes and proxies, a creation load across
the cut, a probe of every kind of request, and the data checked afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from devstack.supervisor import ProcessSpec
from domain.contracts import ticket_workflow_id
from tests.support.branches import add_branch, bootstrap_headers
from tests.support.data import ticket_body
from tests.support.ports import free_port
from tests.support.stack import Stack
from tests.support.tcp_proxy import TcpProxy
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e

#: The longest a request may take to give up on a missing dependency.
FAIL_FAST_SECONDS = 6.0
#: A creation in flight when its dependency goes away gives up by this deadline at most.
CREATE_DEADLINE_SECONDS = 17.0
#: Health must say DOWN within this while a dependency is away.
HEALTH_SECONDS = 4.0
#: A client's pause after a 503 before its next ticket (pacing, not synchronisation).
BACKOFF_SECONDS = 0.2
#: What an error body must never show: the dependencies' addresses and credentials.
SECRETS = ("127.0.0.1", "5432", "5672", "guest", "postgresql", "amqp://")


@dataclass
class ProxiedApi:
    client: httpx.AsyncClient
    proxies: dict[str, TcpProxy]
    staff: dict[str, str]


@pytest.fixture(scope="module")
async def proxied(stack: Stack) -> AsyncIterator[ProxiedApi]:
    """A second API process and its own worker (task queue) reaching PostgreSQL, RabbitMQ
    and Temporal through proxies."""
    temporal_host, temporal_port = stack.temporal_address.rsplit(":", 1)
    proxies = {
        "db": TcpProxy("127.0.0.1", 5432),
        "rabbit": TcpProxy("127.0.0.1", 5672),
        "temporal": TcpProxy(temporal_host, int(temporal_port)),
    }
    ports = {name: await proxy.start() for name, proxy in proxies.items()}
    api_port = free_port()
    env = {
        **stack.env,
        "DATABASE_URL": stack.database_url.replace(":5432/", f":{ports['db']}/"),
        "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{ports['rabbit']}/{stack.vhost}",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "BOOTSTRAP_SUPERVISOR_USERNAME": "",
        # Its own worker, through the same proxies: the whole ticket path loses the service.
        "TEMPORAL_TASK_QUEUE": f"ticketero-outage-{api_port}",
        "WORKER_METRICS_PORT": str(free_port()),
        "WORKER_SDK_METRICS_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }
    cwd = stack.spec("api").cwd
    await stack.supervisor.start(
        ProcessSpec(name="worker-outage", argv=[sys.executable, "worker.py"], env=env, cwd=cwd)
    )
    spec = ProcessSpec(
        name="api-outage",
        argv=[
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(api_port),
            "--no-server-header",
        ],
        env=env,
        cwd=cwd,
        ready_url=f"http://127.0.0.1:{api_port}/actuator/health/liveness",
    )
    await stack.supervisor.start(spec)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{api_port}", timeout=30.0
        ) as client:
            yield ProxiedApi(client, proxies, await bootstrap_headers(client))
    finally:
        await stack.supervisor.stop("api-outage")
        await stack.supervisor.stop("worker-outage")
        for proxy in proxies.values():
            await proxy.cut()


@pytest.fixture
async def temporal(stack: Stack) -> Client:
    return await Client.connect(stack.temporal_address)


async def _timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    resp = await call
    return resp, time.monotonic() - started


def _assert_unavailable(resp: httpx.Response, elapsed: float, dependency: str, what: str) -> None:
    """A 503 within the bound, with Retry-After, naming the dependency and not its address."""
    assert resp.status_code == 503, f"{what}: {resp.status_code} {resp.text}"
    assert elapsed < FAIL_FAST_SECONDS, f"{what} took {elapsed:.1f}s"
    assert int(resp.headers["Retry-After"]) > 0, what
    body = resp.json()
    assert body["status"] == 503 and body["dependency"] == dependency, body
    assert "reintente" in body["message"] or "no disponible" in body["message"], body
    assert not _names_a_secret(resp), resp.text


def _names_a_secret(resp: httpx.Response) -> bool:
    """The request's own path and the answer's time are ours (a timestamp's digits may read
    "5432"); nothing else may name an address, port or credential."""
    body = resp.json()
    told = " ".join(str(v) for k, v in body.items() if k not in ("path", "timestamp"))
    return any(secret in told for secret in SECRETS)


async def _health(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
    return await _timed(client.get("/actuator/health"))


async def _health_names(client: httpx.AsyncClient, down: str | None) -> httpx.Response | None:
    resp, elapsed = await _health(client)
    assert elapsed < HEALTH_SECONDS, f"health took {elapsed:.1f}s"
    body = resp.json()
    wanted = {name: "DOWN" if name == down else "UP" for name in ("db", "rabbit", "temporal")}
    got = {name: part["status"] for name, part in body["components"].items()}
    if got != wanted:
        return None
    assert resp.status_code == (503 if down else 200), resp.text
    assert body["status"] == ("DOWN" if down else "UP")
    return resp


async def _rows(db: AsyncEngine, branch: str) -> list[tuple[str, str]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT t.reference::text, t.number FROM ticket t"
                " JOIN branch b ON b.id = t.branch_id WHERE lower(b.name) = lower(:b)"
                " ORDER BY t.number"
            ),
            {"b": branch},
        )
        return [(str(r[0]), str(r[1])) for r in rows]


@dataclass
class Attempt:
    key: str
    body: dict[str, object]
    started: float
    status: int
    seconds: float
    retry_after: str | None
    reference: str | None


class CreationLoad:
    """Clients taking tickets with an `Idempotency-Key` each, before, during and after a cut."""

    def __init__(self, client: httpx.AsyncClient, branch: str) -> None:
        self.client = client
        self.branch = branch
        self.attempts: list[Attempt] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def one(self, key: str, body: dict[str, object]) -> Attempt:
        started = time.monotonic()
        resp = await self.client.post("/api/tickets", json=body, headers={"Idempotency-Key": key})
        seconds = time.monotonic() - started
        assert resp.status_code in (201, 503), (resp.status_code, resp.text)
        if resp.status_code == 503:
            assert not _names_a_secret(resp), resp.text
        reference = resp.json()["reference"] if resp.status_code == 201 else None
        retry_after = resp.headers.get("Retry-After")
        return Attempt(key, body, started, resp.status_code, seconds, retry_after, reference)

    async def _loop(self) -> None:
        while not self._stop.is_set():
            attempt = await self.one(str(uuid.uuid4()), ticket_body(self.branch))
            self.attempts.append(attempt)
            if attempt.status == 503:
                # A client backing off after a refusal (not synchronisation).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), BACKOFF_SECONDS)

    def start(self, clients: int) -> None:
        self._tasks = [asyncio.create_task(self._loop()) for _ in range(clients)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


#: Which requests need which dependency: those answer 503 while it is away, the rest work.
NEEDS = {
    "db": {"create", "staff_read", "cancel"},
    "rabbit": {"live"},
    "temporal": {"create", "cancel"},
}


async def _probe(proxied: ProxiedApi, what: str, branch: str, reference: str) -> httpx.Response:
    client = proxied.client
    if what == "create":
        return await client.post("/api/tickets", json=ticket_body(branch))
    if what == "staff_read":
        return await client.get(f"/api/branches/{branch}/dashboard", headers=proxied.staff)
    if what == "cancel":
        return await client.post(
            f"/api/tickets/{reference}/cancel", headers={"Idempotency-Key": str(uuid.uuid4())}
        )
    async with client.stream("GET", f"/api/branches/{branch}/display/events") as resp:
        if resp.status_code != 200:
            await resp.aread()  # an error body; a live stream is left unread
        return resp


@pytest.mark.parametrize(
    ("dependency", "mode"),
    [
        ("db", "cut"),
        ("rabbit", "cut"),
        ("temporal", "cut"),
        ("db", "stall"),
        ("rabbit", "stall"),
        ("temporal", "stall"),
    ],
)
async def test_outage_is_503_named_down_and_recovers_consistently(
    proxied: ProxiedApi,
    api: httpx.AsyncClient,
    db: AsyncEngine,
    temporal: Client,
    dependency: str,
    mode: str,
) -> None:
    client, proxy = proxied.client, proxied.proxies[dependency]
    branch = await add_branch(api, "Corte")
    await eventually(lambda: _health_names(client, None), timeout=30, what="health UP")
    victim = await client.post("/api/tickets", json=ticket_body(branch))
    assert victim.status_code == 201, victim.text
    reference = victim.json()["reference"]
    created = {reference}  # tickets acknowledged outside the load

    load = CreationLoad(client, branch)
    load.start(clients=3)
    await eventually(lambda: _any_created(load), timeout=30, what="tickets before the cut")
    if mode == "cut":
        await proxy.cut()
    else:
        proxy.stall()
    cut_at = time.monotonic()
    try:
        down = await eventually(
            lambda: _health_names(client, dependency), timeout=15, what=f"{dependency} DOWN"
        )
        assert down.json()["components"][dependency]["status"] == "DOWN"
        for what in ("create", "staff_read", "cancel", "live"):
            resp, seconds = await _timed(_probe(proxied, what, branch, reference))
            _note_created(created, what, resp)
            if what in NEEDS[dependency]:
                _assert_unavailable(resp, seconds, dependency, f"{what} without {dependency}")
            else:
                assert resp.status_code < 300, f"{what} without {dependency}: {resp.text}"
        english = await client.post(
            "/api/tickets", json=ticket_body(branch), headers={"Accept-Language": "en"}
        )
        _note_created(created, "create", english)
        if "create" in NEEDS[dependency]:
            assert english.status_code == 503
            assert "retry" in english.json()["message"].lower(), english.text
    finally:
        await proxy.restore()
    await eventually(lambda: _health_names(client, None), timeout=30, what="health UP again")
    # The same requests now succeed (the victim was cancelled already if Temporal stayed).
    after = ["create", "staff_read", "live"] + (["cancel"] if "cancel" in NEEDS[dependency] else [])
    for what in after:
        if what == "live":  # its broker connection reconnects on its own, within seconds
            await eventually(
                lambda: _succeeds(proxied, "live", branch, reference), what="live feed back"
            )
        resp = await _probe(proxied, what, branch, reference)
        _note_created(created, what, resp)
        assert resp.status_code < 300, f"{what} after {dependency} returned: {resp.text}"
    await load.stop()

    refused = [a for a in load.attempts if a.status == 503]
    assert all(a.retry_after for a in refused), refused
    # Requests in flight when it went away may wait out the creation deadline; the
    # ones that start after fail fast.
    late = [a for a in refused if a.started > cut_at + 1 and a.seconds >= FAIL_FAST_SECONDS]
    assert not late, late
    assert all(a.seconds < CREATE_DEADLINE_SECONDS for a in refused), refused
    for attempt in refused:  # the client retries with its key: one ticket each
        again = await load.one(attempt.key, attempt.body)
        assert again.status == 201, again
        attempt.reference = again.reference
    acknowledged = {a.reference for a in load.attempts} | created
    await _assert_consistent(db, temporal, branch, acknowledged)


async def _succeeds(
    proxied: ProxiedApi, what: str, branch: str, reference: str
) -> httpx.Response | None:
    resp = await _probe(proxied, what, branch, reference)
    return resp if resp.status_code < 300 else None


def _note_created(created: set[str], what: str, resp: httpx.Response) -> None:
    if what == "create" and resp.status_code == 201:
        created.add(resp.json()["reference"])


async def _any_created(load: CreationLoad) -> bool:
    return any(a.status == 201 for a in load.attempts)


async def _assert_consistent(
    db: AsyncEngine, temporal: Client, branch: str, acknowledged: set[str | None]
) -> None:
    """One row per acknowledged key, numbers consecutive, each row with its workflow."""
    rows = await _rows(db, branch)
    references = [reference for reference, _ in rows]
    assert len(set(references)) == len(references)
    numbers = sorted(int(number[1:]) for _, number in rows)
    assert numbers == list(range(1, len(rows) + 1)), numbers
    assert acknowledged == set(references)
    for reference in references:
        handle = temporal.get_workflow_handle(ticket_workflow_id(uuid.UUID(reference)))
        await handle.describe()
