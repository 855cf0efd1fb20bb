"""One chaos run: start the cluster, load it, inject the faults in turn, drain, check.

A process that exits on its own during a fault is noted (the issue's "make run stops
the whole stack" finding) and started again, as a process manager would, so the run
goes on and the invariants still get checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from chaos.client import Balanced, Recorder
from chaos.cluster import Cluster, start_cluster, stop_cluster
from chaos.faults import RECOVERY_TIMEOUT, Window, run_fault, schedule
from chaos.health import HealthLog, sample
from chaos.invariants import Verdict, check, unsettled
from chaos.load import Life, pause, prepare
from chaos.report import Row, table


@dataclass(frozen=True)
class Options:
    log_dir: Path
    short: bool = False
    rate: float = 2.0  # new customers per second
    hold: float = 5.0  # seconds each fault lasts
    advisors: int = 6  # enough to serve `rate` with room to catch up after a fault
    warmup: float = 5.0
    gap: float = 2.0  # calm seconds between faults
    drain: float = 600.0  # longest wait for every ticket and message to settle
    stall: float = 150.0  # ... or for any progress (longer than the 120 s message retry)
    recovery: float = RECOVERY_TIMEOUT  # longest wait for recovery after each fault


@dataclass
class Outcome:
    rows: list[Row]
    verdict: Verdict
    windows: list[Window]
    lives: list[Life]
    notes: list[str] = field(default_factory=list)


async def _revive(cluster: Cluster, window: Window, notes: list[str]) -> None:
    """Start again any app process that exited by itself (not one we killed and restarted)."""
    supervisor = cluster.stack.supervisor
    for name in cluster.stack.specs:
        if name != "temporal" and not supervisor.running(name):
            code = supervisor.returncode(name)
            notes.append(f"{name} exited by itself (code {code}) during/after '{window.fault}'")
            await cluster.start(name)


async def _drain(cluster: Cluster, branch: str, opts: Options, notes: list[str]) -> None:
    """Let the advisors serve the backlog: until nothing is open, or nothing moved for
    `opts.stall` seconds (stuck: the invariants will say what), or `opts.drain` passed."""
    engine = create_async_engine(cluster.stack.database_url, pool_size=1)
    try:
        start = time.monotonic()
        left = await unsettled(engine, branch)
        moved = time.monotonic()
        while left and time.monotonic() - start < opts.drain:
            if time.monotonic() - moved > opts.stall:
                notes.append(f"drain: no progress for {opts.stall:g}s")
                break
            await asyncio.sleep(1.0)  # polling the read model with a deadline
            now = await unsettled(engine, branch)
            if now != left:
                left, moved = now, time.monotonic()
        if left:
            notes.append(
                f"drain: {left} tickets/messages still open after {time.monotonic() - start:.0f}s"
            )
    finally:
        await engine.dispose()


async def run(opts: Options) -> Outcome:
    cluster = await start_cluster(opts.log_dir)
    engine = create_async_engine(cluster.stack.database_url)
    recorder = Recorder()
    api = Balanced(cluster.api_urls, recorder)
    sandbox = httpx.AsyncClient(base_url=cluster.stack.sandbox_url, timeout=10, trust_env=False)
    health = HealthLog()
    stop_arrivals, stop_desks, stop_health = asyncio.Event(), asyncio.Event(), asyncio.Event()
    notes: list[str] = []
    windows: list[Window] = []
    try:
        load = await prepare(engine, api, opts.advisors)
        tasks = [
            asyncio.create_task(sample(cluster.api_urls, health, stop_health)),
            *(asyncio.create_task(load.desk(t, stop_desks)) for t in load.advisor_tokens),
        ]
        arrivals = asyncio.create_task(load.arrivals(opts.rate, stop_arrivals))
        await pause(stop_arrivals, opts.warmup)
        for fault in schedule(opts.short):
            window = await run_fault(cluster, load, sandbox, fault, opts.hold, opts.recovery)
            windows.append(window)
            await _revive(cluster, window, notes)
            await pause(stop_arrivals, opts.gap)
        stop_arrivals.set()
        await arrivals
        await _drain(cluster, load.branch, opts, notes)
        stop_desks.set()
        stop_health.set()
        await asyncio.gather(*tasks)
        temporal = await Client.connect(
            cluster.stack.temporal_address, data_converter=pydantic_data_converter
        )
        verdict = await check(
            engine=engine,
            temporal=temporal,
            sandbox=sandbox,
            branch=load.branch,
            lives=load.lives,
            windows=windows,
            health=health,
            bridge_kills=cluster.bridge_kills,
        )
        rows = table(windows, recorder.samples, load.lives, verdict)
        return Outcome(rows, verdict, windows, load.lives, notes)
    finally:
        for event in (stop_arrivals, stop_desks, stop_health):
            event.set()
        await api.aclose()
        await sandbox.aclose()
        await engine.dispose()
        with contextlib.suppress(Exception):
            await stop_cluster(cluster)
