"""`python -m devstack run` (what `make run` execs) as a process manager, for real.

The whole stack runs as `make run` runs it, on free ports with its own database,
vhost and var dir. A worker killed with SIGKILL under a steady load of creations
is restarted while the API keeps answering; a process that keeps crashing stops
the stack with a line naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devstack.supervisor import port_open
from tests.devstack.make_run import BRANCH, RunningStack, make_run_stack, status, value
from tests.support.wait import eventually


@pytest.fixture
async def make_run(tmp_path: Path) -> AsyncIterator[RunningStack]:
    async with make_run_stack(tmp_path, "keep") as stack:
        yield stack


@dataclass
class Outcome:
    sent_at: float
    status: int | None  # None: the connection failed
    retry_after: str | None = None
    reference: str | None = None


async def _create(http: httpx.AsyncClient, api: str, n: int) -> Outcome:
    sent = time.monotonic()
    try:
        resp = await http.post(
            f"{api}/api/tickets",
            json={"nationalId": str(20_000_000 + n), "branchOffice": BRANCH, "queue": "CAJA"},
        )
    except httpx.HTTPError:
        return Outcome(sent, None)
    body = resp.json() if resp.status_code == 201 else {}
    return Outcome(sent, resp.status_code, resp.headers.get("retry-after"), body.get("reference"))


async def test_worker_killed_under_load_is_restarted_and_the_api_keeps_serving(make_run):
    stack = make_run
    before = await status(stack)
    assert set(before) >= {"temporal", "api", "worker", "ops-worker", "bridge"}
    assert all(row["running"] for row in before.values())
    old_worker = before["worker"]["pid"]

    outcomes: list[Outcome] = []  # in order of completion
    stop_load = asyncio.Event()

    async def one(http: httpx.AsyncClient, n: int) -> None:
        outcomes.append(await _create(http, stack.api, n))

    async def load() -> None:
        """10 creations per second, each on its own task so a slow one holds nothing up."""
        tasks: list[asyncio.Task[None]] = []
        async with httpx.AsyncClient(timeout=60, trust_env=False) as http:
            n = 0
            while not stop_load.is_set():
                tasks.append(asyncio.create_task(one(http, n)))
                n += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop_load.wait(), 0.1)  # the load's pace
            await asyncio.gather(*tasks)

    def acknowledged_since(moment: float) -> int:
        return sum(1 for o in outcomes if o.status == 201 and o.sent_at >= moment)

    loader = asyncio.create_task(load())
    started = time.monotonic()
    await eventually(
        lambda: value(acknowledged_since(started) >= 20), timeout=60, what="load flowing"
    )
    killed_at = time.monotonic()
    os.kill(old_worker, signal.SIGKILL)

    async def restarted() -> dict | None:
        row = (await status(stack))["worker"]
        back = row["running"] and row["pid"] != old_worker and row["restarts"] == 1
        return row if back else None

    worker = await eventually(restarted, timeout=60, interval=0.1, what="worker restarted")
    back_at = time.monotonic()
    # The load goes on against the new worker until 30 more creations are acknowledged.
    await eventually(
        lambda: value(acknowledged_since(back_at) >= 30), timeout=60, what="load after restart"
    )
    stop_load.set()
    await asyncio.wait_for(loader, 120)

    after = await status(stack)
    for name in ("api", "temporal", "ops-worker", "bridge", "sandbox"):
        if name in before:
            assert after[name]["pid"] == before[name]["pid"], f"{name} was restarted too"
    await eventually(
        lambda: value(
            stack.said("worker exited unexpectedly with code -9")
            and stack.said(f"worker restarted (pid {worker['pid']})")
        ),
        what="make run's lines about the crash and the restart",
    )

    print(
        f"\nworker SIGKILL under load: {len(outcomes)} creations, "
        f"{sum(o.status == 201 for o in outcomes)} x 201, "
        f"{sum(o.status == 503 for o in outcomes)} x 503, "
        f"{sum(o.status is None for o in outcomes)} refused; "
        f"worker back after {back_at - killed_at:.1f}s"
    )
    refused = [o for o in outcomes if o.status is None]
    assert not refused, f"{len(refused)} of {len(outcomes)} requests got no answer"
    bad = [o for o in outcomes if o.status not in (201, 503)]
    assert not bad, [o.status for o in bad]
    assert all(o.retry_after for o in outcomes if o.status == 503)
    during = [o for o in outcomes if o.sent_at >= killed_at]
    assert any(o.status == 201 for o in during), "no creation went through after the kill"
    # Every acknowledged creation is there, including those sent while the worker was down.
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        for o in outcomes:
            if o.status == 201:
                resp = await http.get(f"{stack.api}/api/tickets/{o.reference}")
                assert resp.status_code == 200, (o, resp.text)
                assert resp.json()["status"] == "WAITING"


async def test_a_worker_that_keeps_crashing_stops_the_stack_with_a_clear_line(make_run):
    stack = make_run
    for crash in range(1, 6):
        worker = (await status(stack))["worker"]
        os.kill(worker["pid"], signal.SIGKILL)
        if crash == 5:
            break

        async def restarted(old: int = worker["pid"], count: int = crash) -> bool:
            row = (await status(stack))["worker"]
            return row["running"] and row["pid"] != old and row["restarts"] == count

        await eventually(restarted, timeout=60, interval=0.1, what=f"restart {crash}")
    code = await asyncio.wait_for(stack.proc.wait(), 90)
    assert code == 1
    await eventually(
        lambda: value(stack.said("devstack: stopped")), timeout=10, what="the last line"
    )
    assert stack.said(
        "devstack: crash loop: worker crashed 5 times within 60s (last exit code -9)"
    ), stack.lines[-20:]
    assert stack.said("stopping the stack")
    assert not await port_open("127.0.0.1", int(stack.api.rsplit(":", 1)[1]))
