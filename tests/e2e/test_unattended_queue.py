"""A queue nobody can serve: its tickets wait, supervisors are alerted, nothing spins."""

from __future__ import annotations

import asyncio
import os
import time

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.stack import Stack
from tests.support.staff import add_advisor, add_user
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


async def test_gerencia_without_advisor_waits_alerts_and_idles(
    api: httpx.AsyncClient, db: AsyncEngine, stack: Stack
) -> None:
    branch = await add_branch(api)
    teller = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    await api.put("/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=teller.headers)
    supervisor = await add_user(db, api, "supervisor")
    created = [
        (await api.post("/api/tickets", json=ticket_body(branch, "GERENCIA"))).json()
        for _ in range(3)
    ]

    async def alerted() -> list[dict[str, object]] | None:
        resp = await api.get(f"/api/branches/{branch}/alerts", headers=supervisor.headers)
        found = [a for a in resp.json()["alerts"] if a["kind"] == "QUEUE_UNATTENDED"]
        return found or None

    alert = (await alerted() or [{}])[0]
    assert alert["queue"] == "GERENCIA" and alert["severity"] == "HIGH"

    pids = [stack.supervisor.pid(name) for name in ("worker", "api", "bridge")]

    async def idle_second() -> bool:
        """One second in which worker, API and bridge together use under 5 % of a core."""
        before = sum(cpu_seconds(pid) for pid in pids)
        started = time.monotonic()
        await asyncio.sleep(1.0)  # the measuring window itself, not a synchronisation
        used = sum(cpu_seconds(pid) for pid in pids) - before
        return used < 0.05 * (time.monotonic() - started)

    await eventually(idle_second, timeout=20, interval=0.0, what="the stack to go idle")
    for ticket in created:
        got = (await api.get(f"/api/tickets/{ticket['reference']}")).json()
        assert got["status"] == "WAITING"
    me = (await api.get("/api/advisors/me", headers=teller.headers)).json()
    assert me["status"] == "AVAILABLE" and me["ticket"] is None
