"""The faults, and running one: inject, hold, lift, then time the recovery.

Recovery is measured end to end: from the moment the fault is lifted until a fresh
customer's ticket is acknowledged (201) and its "ticket created" message reaches the
customer's chat. A fault made of several (the overlapping phase) injects them all,
holds, then lifts them all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from chaos.cluster import Cluster
from chaos.load import Load

#: Longest wait for recovery after a fault (the bounded form waits less).
RECOVERY_TIMEOUT = 120.0

Step = Callable[[Cluster], Awaitable[None]]


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Step
    lift: Step
    #: Health components that must go DOWN during the fault and back UP after.
    down: frozenset[str] = frozenset()
    #: Processes killed and started again.
    killed: frozenset[str] = frozenset()


@dataclass
class Window:
    fault: str
    started: float  # time.time()
    lifted: float = 0.0
    recovered: float | None = None
    down: frozenset[str] = frozenset()
    probes: list[str] = field(default_factory=list)
    patience: float = RECOVERY_TIMEOUT

    @property
    def end(self) -> float:
        return self.recovered if self.recovered is not None else self.lifted + self.patience

    @property
    def recovery_seconds(self) -> float | None:
        return None if self.recovered is None else self.recovered - self.lifted


def kill(name: str) -> Fault:
    async def inject(c: Cluster) -> None:
        await c.kill(name)

    async def lift(c: Cluster) -> None:
        await c.start(name)

    return Fault(f"SIGKILL {name}", inject, lift, killed=frozenset({name}))


def rabbitmq_down() -> Fault:
    async def inject(c: Cluster) -> None:
        await c.rabbitmq.cut()

    async def lift(c: Cluster) -> None:
        await c.rabbitmq.restore()

    return Fault("RabbitMQ unreachable", inject, lift, frozenset({"rabbit"}))


def postgres_down() -> Fault:
    async def inject(c: Cluster) -> None:
        await c.postgres.cut()

    async def lift(c: Cluster) -> None:
        await c.postgres.restore()

    return Fault("PostgreSQL unreachable", inject, lift, frozenset({"db"}))


def temporal_restart() -> Fault:
    async def inject(c: Cluster) -> None:
        await c.stop_temporal()

    async def lift(c: Cluster) -> None:
        await c.start_temporal()

    return Fault("Temporal stop/start", inject, lift, frozenset({"temporal"}))


def telegram_errors(outage: bool) -> Fault:
    """429s and 500s on sendMessage; with `outage`, also hangs and then every Bot API call
    failing meanwhile (messages go to the workflow's 30/60/120 s retries). Without it, few
    enough that the bridge's inline retries absorb them (the bounded form stays short)."""

    async def inject(c: Cluster) -> None:
        faults: list[dict[str, object]] = [
            {"kind": "429", "count": 6 if outage else 3, "retry_after": 2 if outage else 1},
            {"kind": "500", "count": 4 if outage else 2},
        ]
        if outage:
            faults.append({"kind": "timeout", "count": 2, "delay_seconds": 12})
        for fault in faults:
            await c.telegram("POST", "/sandbox/faults", {"method": "sendMessage", **fault})
        if outage:
            await c.telegram("POST", "/sandbox/outage", {"seconds": 3600})

    async def lift(c: Cluster) -> None:
        if outage:
            await c.telegram("DELETE", "/sandbox/outage")
        await c.telegram("DELETE", "/sandbox/faults")

    name = "Telegram 429/5xx/timeout/outage" if outage else "Telegram 429/5xx"
    return Fault(name, inject, lift)


def together(*faults: Fault) -> Fault:
    async def inject(c: Cluster) -> None:
        for fault in faults:
            await fault.inject(c)

    async def lift(c: Cluster) -> None:
        await asyncio.gather(*(fault.lift(c) for fault in faults))

    down = frozenset().union(*(f.down for f in faults))
    killed = frozenset().union(*(f.killed for f in faults))
    return Fault(" + ".join(f.name for f in faults), inject, lift, down, killed)


def schedule(short: bool) -> list[Fault]:
    """One at a time, then overlapping. `short` is the bounded form `make test` runs."""
    single = [
        kill("worker"),
        kill("bridge-2"),
        kill("api"),
        rabbitmq_down(),
        postgres_down(),
        temporal_restart(),
        telegram_errors(outage=not short),
    ]
    overlapping = [together(kill("worker-2"), kill("bridge"), postgres_down())]
    if not short:
        overlapping += [
            together(kill("api-2"), rabbitmq_down(), telegram_errors(outage=True)),
            together(kill("worker"), temporal_restart()),
        ]
    return single + overlapping


async def delivered(sandbox: httpx.AsyncClient, chat: int) -> bool:
    resp = await sandbox.get(f"/sandbox/chats/{chat}/messages")
    return resp.status_code == 200 and len(resp.json()) > 0


async def recover(load: Load, sandbox: httpx.AsyncClient, window: Window) -> None:
    """Probe with fresh customers until one is acknowledged and messaged, or time out."""
    deadline = time.monotonic() + window.patience
    while time.monotonic() < deadline:
        probe = await load.create(probe=True)
        if probe.reference is None:
            continue
        window.probes.append(probe.reference)
        while time.monotonic() < deadline:
            if await delivered(sandbox, probe.chat):
                window.recovered = time.time()
                return
            await asyncio.sleep(0.2)  # polling the phone for the message, with a deadline


async def run_fault(
    cluster: Cluster,
    load: Load,
    sandbox: httpx.AsyncClient,
    fault: Fault,
    hold: float,
    patience: float = RECOVERY_TIMEOUT,
) -> Window:
    window = Window(fault.name, time.time(), down=fault.down, patience=patience)
    await fault.inject(cluster)
    await asyncio.sleep(hold)  # how long the fault lasts *is* the experiment
    await fault.lift(cluster)
    window.lifted = time.time()
    for name in fault.killed:
        if name in cluster.stack.replicas("api"):
            await load.api.reset(cluster.stack.replicas("api").index(name))
    await recover(load, sandbox, window)
    return window
