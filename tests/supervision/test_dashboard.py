"""Dashboard, queue statistics and the advisors' day, after real tickets and services."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.supervision.helpers import add_advisor, at, auth, take_tickets
from tests.support.branches import add_branch
from tests.support.data import branch_name
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


def by_queue(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["queue"]: q for q in dashboard["queues"]}


async def get_ok(api: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    resp = await api.get(path, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_waiting_lines_before_anyone_serves(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await add_branch(api, "Panel")
    await add_advisor(api, supervisor, branch, 1, ["CAJA"])
    cash = await take_tickets(api, branch, "CAJA", 3)
    await take_tickets(api, branch, "GERENCIA", 2)

    board = await get_ok(api, f"{at(branch)}/dashboard", supervisor)

    assert board["branchOffice"] == branch
    assert board["timeZone"] == "America/Santiago"
    assert [q["queue"] for q in board["queues"]] == [
        "GERENCIA",
        "EMPRESAS",
        "PERSONAL_BANKER",
        "CAJA",
    ]
    queues = by_queue(board)
    assert queues["CAJA"]["waiting"] == 3 and queues["GERENCIA"]["waiting"] == 2
    assert queues["EMPRESAS"]["waiting"] == 0
    assert queues["CAJA"]["beingServed"] == 0 and queues["CAJA"]["completedToday"] == 0
    assert queues["CAJA"]["servingAdvisors"] == 0  # the only advisor is OFFLINE
    assert queues["CAJA"]["averageWaitMinutes"] is None
    assert queues["CAJA"]["longestWaitMinutes"] >= 0
    assert queues["EMPRESAS"]["longestWaitMinutes"] is None
    assert queues["CAJA"]["averageServiceMinutes"] == 5.0
    assert queues["GERENCIA"]["averageServiceMinutes"] == 30.0
    assert board["advisors"] == {"AVAILABLE": 0, "BUSY": 0, "BREAK": 0, "OFFLINE": 1}
    assert board["totals"] == {
        "waiting": 5,
        "beingServed": 0,
        "completedToday": 0,
        "advisors": 1,
        "servingAdvisors": 0,
    }

    stats = await get_ok(api, f"{at(branch)}/queues/caja/stats", supervisor)

    assert stats["queue"] == "CAJA"
    assert [(p["number"], p["position"]) for p in stats["line"]] == [
        (t["number"], i) for i, t in enumerate(cash, start=1)
    ]
    assert {p["status"] for p in stats["line"]} == {"WAITING"}
    assert all(p["waitedMinutes"] >= 0 for p in stats["line"])
    assert stats["today"] == {
        "waiting": 3,
        "beingServed": 0,
        "completed": 0,
        "cancelled": 0,
        "noShow": 0,
        "expired": 0,
    }
    assert stats["waitMinutes"] == {"p50": None, "p90": None, "samples": 0}
    assert stats["service"] == {"averageMinutes": 5.0, "samples": 0}
    # Nobody serves CAJA: estimated as if one advisor did, 4 services of 5 minutes.
    assert stats["estimate"]["ticketsAhead"] == 3
    assert stats["estimate"]["minutes"] == 20
    assert stats["estimate"]["servingAdvisors"] == 0


async def test_cancelled_tickets_leave_the_line_and_are_counted(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await add_branch(api, "Panel")
    first, second, third = await take_tickets(api, branch, "PERSONAL_BANKER", 3)
    cancel = await api.post(f"/api/tickets/{second['reference']}/cancel")
    assert cancel.status_code == 200, cancel.text

    async def line_without_it() -> Any:
        stats = await get_ok(api, f"{at(branch)}/queues/PERSONAL_BANKER/stats", supervisor)
        return stats if len(stats["line"]) == 2 else None

    stats = await eventually(line_without_it, what="the cancelled ticket to leave the line")
    assert [(p["number"], p["position"]) for p in stats["line"]] == [
        (first["number"], 1),
        (third["number"], 2),
    ]
    assert stats["today"]["cancelled"] == 1 and stats["today"]["waiting"] == 2


async def test_a_served_ticket_moves_every_figure(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await add_branch(api, "Panel")
    teller = await add_advisor(api, supervisor, branch, 1, ["CAJA"], with_login=True)
    await add_advisor(api, supervisor, branch, 2, ["EMPRESAS"])
    first, _second = await take_tickets(api, branch, "CAJA", 2)
    desk = auth(teller["token"])

    called = await api.put("/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=desk)
    assert called.status_code == 200, called.text
    assert called.json()["ticket"]["reference"] == first["reference"]

    board = await get_ok(api, f"{at(branch)}/dashboard", supervisor)
    cash = by_queue(board)["CAJA"]
    assert (cash["waiting"], cash["beingServed"], cash["servingAdvisors"]) == (1, 1, 1)
    assert cash["averageWaitMinutes"] >= 0
    assert board["advisors"]["BUSY"] == 1 and board["advisors"]["OFFLINE"] == 1
    people = await get_ok(api, f"{at(branch)}/advisors", supervisor)
    assert [(p["desk"], p["status"], p["currentTicketNumber"]) for p in people] == [
        (1, "BUSY", first["number"]),
        (2, "OFFLINE", None),
    ]

    for action in ("start", "complete"):
        resp = await api.post(f"/api/tickets/{first['reference']}/{action}", headers=desk)
        assert resp.status_code == 200, resp.text

    async def completed() -> Any:
        board = await get_ok(api, f"{at(branch)}/dashboard", supervisor)
        return board if by_queue(board)["CAJA"]["completedToday"] == 1 else None

    board = await eventually(completed, what="the completed service on the dashboard")
    assert board["totals"]["completedToday"] == 1
    stats = await get_ok(api, f"{at(branch)}/queues/CAJA/stats", supervisor)
    assert stats["today"]["completed"] == 1
    # a service of a few seconds is not a service (domain/estimate.py trims it)
    assert stats["service"]["samples"] == 0
    assert stats["waitMinutes"]["samples"] >= 1 and stats["waitMinutes"]["p50"] is not None
    people = await get_ok(api, f"{at(branch)}/advisors", supervisor)
    assert people[0]["servedToday"] == 1
    assert people[0]["averageServiceMinutesToday"] is not None


async def test_unknown_branch_or_queue_is_404(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await add_branch(api, "Panel")
    await take_tickets(api, branch, "CAJA", 1)
    for path in (
        f"{at(branch_name())}/dashboard",
        f"{at(branch_name())}/advisors",
        f"{at(branch_name())}/alerts",
        f"{at(branch_name())}/queues/CAJA/stats",
        f"{at(branch)}/queues/VIP/stats",
    ):
        resp = await api.get(path, headers=supervisor)
        assert resp.status_code == 404, path
        assert resp.json()["status"] == 404 and resp.json()["message"]
