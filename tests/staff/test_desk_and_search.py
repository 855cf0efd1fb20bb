"""What the staff pages need from the API: the desk view, "pause after this ticket", a
ticket found by its number, and each message's delivery state in the history.

Long because each piece is walked end to end on the shared stack.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowExecutionStatus

from tests.support.branches import add_branch
from tests.support.data import chat_id, ticket_body
from tests.support.stack import Stack
from tests.support.staff import Staff, add_advisor, add_user
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


async def create(api: httpx.AsyncClient, branch: str, queue: str = "CAJA", **extra: Any) -> Any:
    resp = await api.post("/api/tickets", json=ticket_body(branch, queue, **extra))
    assert resp.status_code == 201, resp.text
    return resp.json()


async def desk(api: httpx.AsyncClient, advisor: Staff) -> Any:
    resp = await api.get("/api/advisors/me", headers=advisor.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def holding(api: httpx.AsyncClient, advisor: Staff, status: str = "CALLED") -> Any:
    async def probe() -> Any:
        me = await desk(api, advisor)
        return me if me["ticket"] and me["ticket"]["status"] == status else None

    return await eventually(probe, timeout=15, what=f"the advisor to hold a {status} ticket")


async def act(api: httpx.AsyncClient, advisor: Staff, reference: str, action: str) -> Any:
    resp = await api.post(f"/api/tickets/{reference}/{action}", headers=advisor.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def status_of(api: httpx.AsyncClient, reference: str) -> str:
    return str((await api.get(f"/api/tickets/{reference}")).json()["status"])


async def available(api: httpx.AsyncClient, advisor: Staff) -> Any:
    resp = await api.put(
        "/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=advisor.headers
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


async def settled(stack: Stack, reference: str) -> None:
    """Wait until the completed ticket's workflow has closed: it waits for its after-change
    step (the dispatch that could have called the next ticket) before it ends."""
    client = await Client.connect(stack.temporal_address)
    handle = client.get_workflow_handle(f"ticket-{reference}")

    async def closed() -> bool:
        return (await handle.describe()).status != WorkflowExecutionStatus.RUNNING

    await eventually(closed, timeout=30, what="the completed ticket's workflow to close")


# --- pause after this ticket ---------------------------------------------------------------


async def test_a_break_after_the_ticket_in_hand_is_taken_instead_of_the_next_call(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Pausa")
    advisor = await add_advisor(db, api, branch, desk=3, queues=["CAJA"])
    await available(api, advisor)
    first, second = await create(api, branch), await create(api, branch)
    me = await holding(api, advisor)
    assert me["ticket"]["reference"] == first["reference"]

    paused = await api.put(
        "/api/advisors/me/after-ticket", json={"status": "BREAK"}, headers=advisor.headers
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "BUSY" and paused.json()["pendingStatus"] == "BREAK"
    assert (await desk(api, advisor))["pendingStatus"] == "BREAK"
    supervisor = await add_user(db, api, "supervisor")
    where = f"/api/branches/{quote(branch, safe='')}"
    (row,) = (await api.get(f"{where}/advisors", headers=supervisor.headers)).json()
    assert row["status"] == "BUSY" and row["pendingStatus"] == "BREAK"
    await act(api, advisor, first["reference"], "start")
    await act(api, advisor, first["reference"], "complete")
    board = (await api.get(f"{where}/dashboard", headers=supervisor.headers)).json()
    caja = next(q for q in board["queues"] if q["queue"] == "CAJA")
    assert caja["waitP50Minutes"] is not None and caja["serviceP90Minutes"] is not None
    empresas = next(q for q in board["queues"] if q["queue"] == "EMPRESAS")
    assert empresas["waitP50Minutes"] is None and empresas["serviceP50Minutes"] is None

    async def on_break() -> Any:
        me = await desk(api, advisor)
        return me if me["status"] == "BREAK" else None

    me = await eventually(on_break, timeout=15, what="the advisor on break")
    assert me["ticket"] is None and me["pendingStatus"] is None
    await settled(stack, first["reference"])
    assert await status_of(api, second["reference"]) == "WAITING"
    assert (await desk(api, advisor))["status"] == "BREAK"

    back = await available(api, advisor)
    assert back["ticket"]["reference"] == second["reference"]


async def test_a_break_asked_with_a_ticket_in_hand_is_queued_and_taken_after_it(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Pausa")
    advisor = await add_advisor(db, api, branch, desk=4, queues=["CAJA"])
    await available(api, advisor)
    first, second = await create(api, branch), await create(api, branch)
    await holding(api, advisor)

    queued = await api.put(
        "/api/advisors/me/status", json={"status": "BREAK"}, headers=advisor.headers
    )
    assert queued.status_code == 200, queued.text
    view = queued.json()
    assert view["status"] == "BUSY" and view["pendingStatus"] == "BREAK"
    assert view["ticket"]["reference"] == first["reference"] and view["message"]
    await act(api, advisor, first["reference"], "start")
    await act(api, advisor, first["reference"], "complete")

    async def on_break() -> Any:
        me = await desk(api, advisor)
        return me if me["status"] == "BREAK" else None

    me = await eventually(on_break, timeout=15, what="the queued break taken")
    assert me["ticket"] is None and me["pendingStatus"] is None
    await settled(stack, first["reference"])
    assert await status_of(api, second["reference"]) == "WAITING"


async def test_a_cancelled_pause_lets_the_next_ticket_be_called(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Pausa")
    advisor = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    await available(api, advisor)
    first, second = await create(api, branch), await create(api, branch)
    await holding(api, advisor)
    await api.put(
        "/api/advisors/me/after-ticket", json={"status": "OFFLINE"}, headers=advisor.headers
    )
    cancelled = await api.delete("/api/advisors/me/after-ticket", headers=advisor.headers)
    assert cancelled.status_code == 200 and cancelled.json()["pendingStatus"] is None
    await act(api, advisor, first["reference"], "start")
    await act(api, advisor, first["reference"], "complete")

    me = await holding(api, advisor)
    assert me["ticket"]["reference"] == second["reference"] and me["status"] == "BUSY"


async def test_a_pause_with_nothing_in_hand_is_taken_at_once(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Pausa")
    advisor = await add_advisor(db, api, branch, desk=2, queues=["CAJA"])
    await available(api, advisor)
    resp = await api.put(
        "/api/advisors/me/after-ticket", json={"status": "BREAK"}, headers=advisor.headers
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "BREAK" and resp.json()["pendingStatus"] is None
    ticket = await create(api, branch)
    # A colleague who comes in afterwards gets it: had the break been ignored, the
    # creation's dispatch would already have called it to the first advisor.
    colleague = await add_advisor(db, api, branch, desk=3, queues=["CAJA"])
    await available(api, colleague)
    assert (await holding(api, colleague))["ticket"]["reference"] == ticket["reference"]
    assert (await desk(api, advisor))["ticket"] is None
    bad = await api.put(
        "/api/advisors/me/after-ticket", json={"status": "BUSY"}, headers=advisor.headers
    )
    assert bad.status_code == 422


async def test_offline_after_a_no_show_keeps_it_recallable_from_the_desk(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Pausa")
    advisor = await add_advisor(db, api, branch, desk=5, queues=["CAJA"])
    await available(api, advisor)
    first, second = await create(api, branch), await create(api, branch)
    await holding(api, advisor)
    assert (await desk(api, advisor))["recallable"] is None
    await api.put(
        "/api/advisors/me/after-ticket", json={"status": "OFFLINE"}, headers=advisor.headers
    )
    await act(api, advisor, first["reference"], "no-show")

    async def offline() -> Any:
        me = await desk(api, advisor)
        return me if me["status"] == "OFFLINE" else None

    me = await eventually(offline, timeout=15, what="the advisor offline")
    assert me["recallable"]["reference"] == first["reference"]
    assert me["recallable"]["number"] == first["number"]
    # The second ticket stays in line for someone else: a colleague who comes in gets it.
    colleague = await add_advisor(db, api, branch, desk=7, queues=["CAJA"])
    await available(api, colleague)
    assert (await holding(api, colleague))["ticket"]["reference"] == second["reference"]

    recalled = await act(api, advisor, first["reference"], "recall")
    assert recalled["status"] == "CALLED"
    me = await desk(api, advisor)
    assert me["ticket"]["reference"] == first["reference"] and me["recallable"] is None


# --- the desk view ------------------------------------------------------------------------


async def test_the_desk_shows_the_branch_waiting_count_per_queue(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Escritorio")
    advisor = await add_advisor(db, api, branch, desk=6, queues=["CAJA", "EMPRESAS"])
    for queue in ("CAJA", "CAJA", "PERSONAL_BANKER"):
        await create(api, branch, queue)

    me = await desk(api, advisor)
    assert me["branchOffice"] == branch and me["status"] == "OFFLINE"
    waiting = {w["queue"]: (w["waiting"], w["servedByMe"]) for w in me["waiting"]}
    assert waiting == {
        "GERENCIA": (0, False),
        "EMPRESAS": (0, True),
        "PERSONAL_BANKER": (1, False),
        "CAJA": (2, True),
    }
    assert me["waiting"][0]["queue"] == "GERENCIA"  # highest priority first


# --- search by number ---------------------------------------------------------------------


def tickets_of(branch: str) -> str:
    return f"/api/branches/{quote(branch, safe='')}/tickets"


async def test_staff_of_the_branch_find_a_ticket_by_its_number(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Busqueda")
    ticket = await create(api, branch, "EMPRESAS")
    advisor = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    supervisor = await add_user(db, api, "supervisor")

    for who in (advisor, supervisor):
        for typed in (ticket["number"], ticket["number"].lower(), "e1", "E-001"):
            resp = await api.get(tickets_of(branch), params={"number": typed}, headers=who.headers)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert body["number"] == "E01" and body["branchOffice"] == branch
            (match,) = body["matches"]
            assert match["reference"] == ticket["reference"]
            assert match["queue"] == "EMPRESAS" and match["status"] == "WAITING"
            assert match["arrivedAt"] and match["calledAt"] is None

    yesterday = await api.get(
        tickets_of(branch),
        params={"number": "E01", "day": "2020-01-01"},
        headers=supervisor.headers,
    )
    assert yesterday.status_code == 200 and yesterday.json()["matches"] == []
    missing = await api.get(tickets_of(branch), params={"number": "C07"}, headers=advisor.headers)
    assert missing.status_code == 200 and missing.json()["matches"] == []
    bad = await api.get(tickets_of(branch), params={"number": "7!"}, headers=advisor.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "number"
    no_branch = await api.get(
        tickets_of("Sucursal que no existe"), params={"number": "C01"}, headers=supervisor.headers
    )
    assert no_branch.status_code == 404


async def test_a_ticket_search_is_refused_outside_the_callers_branch(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch, other = await add_branch(api, "Busqueda"), await add_branch(api, "Ajena")
    await create(api, branch)
    stranger = await add_advisor(db, api, other, desk=1, queues=["CAJA"])

    resp = await api.get(tickets_of(branch), params={"number": "C01"}, headers=stranger.headers)
    assert resp.status_code == 403, resp.text
    anonymous = await api.get(tickets_of(branch), params={"number": "C01"})
    assert anonymous.status_code == 401


# --- message delivery in the history ------------------------------------------------------


async def test_the_history_shows_each_message_with_its_delivery_state(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Entregas")
    advisor = await add_advisor(db, api, branch, desk=2, queues=["CAJA"])
    ticket = await create(api, branch, telegramChatId=chat_id())
    await available(api, advisor)
    await holding(api, advisor)
    supervisor = await add_user(db, api, "supervisor")
    path = f"/api/tickets/{ticket['reference']}/history"

    async def delivered() -> Any:
        body = (await api.get(path, headers=supervisor.headers)).json()
        states = {m["type"]: m["state"] for m in body["messages"]}
        return body if states == {"TICKET_CREATED": "SENT", "YOUR_TURN": "SENT"} else None

    body = await eventually(delivered, timeout=20, what="both messages sent")
    first = body["messages"][0]
    assert first["type"] == "TICKET_CREATED" and first["channel"]
    assert first["attempts"] == 1 and first["lastError"] is None
    assert first["sentAt"] and first["scheduledAt"] and first["createdAt"]
    assert "chatId" not in first and "text" not in first


# --- recall, transfer and tickets by number (issue 13, advisor flow) -------------------------


async def no_show_then_next_called(
    api: httpx.AsyncClient, db: AsyncEngine, desk_no: int
) -> tuple[Staff, Any, Any]:
    branch = await add_branch(api, "Rellamado")
    advisor = await add_advisor(db, api, branch, desk=desk_no, queues=["CAJA"])
    await available(api, advisor)
    first, second = await create(api, branch), await create(api, branch)
    await holding(api, advisor)
    await act(api, advisor, first["reference"], "no-show")

    async def next_called() -> Any:
        me = await desk(api, advisor)
        ticket = me["ticket"]
        return me if ticket and ticket["reference"] == second["reference"] else None

    me = await eventually(next_called, timeout=15, what="the next ticket auto-called")
    assert me["recallable"]["reference"] == first["reference"]
    return advisor, first, second


async def test_an_advisor_recalls_their_no_show_after_the_next_was_auto_called(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    advisor, first, second = await no_show_then_next_called(api, db, 6)
    recalled = await act(api, advisor, first["reference"], "recall")
    assert recalled["status"] == "CALLED" and recalled["desk"] == 6
    me = await desk(api, advisor)
    assert me["ticket"]["reference"] == first["reference"] and me["recallable"] is None
    assert await status_of(api, second["reference"]) == "WAITING"
    async with db.connect() as conn:
        held = (
            await conn.execute(
                text("SELECT count(*) FROM advisor WHERE current_ticket = :r"),
                {"r": second["reference"]},
            )
        ).scalar()
    assert held == 0
    await act(api, advisor, first["reference"], "start")
    await act(api, advisor, first["reference"], "complete")
    me = await holding(api, advisor)
    assert me["ticket"]["reference"] == second["reference"]  # back at the front of its line


async def test_a_second_recall_and_a_recall_during_service_get_plain_409s(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    advisor, first, second = await no_show_then_next_called(api, db, 7)
    await act(api, advisor, second["reference"], "start")
    busy = await api.post(f"/api/tickets/{first['reference']}/recall", headers=advisor.headers)
    assert busy.status_code == 409, busy.text
    assert "atención en curso" in busy.json()["message"]
    await act(api, advisor, second["reference"], "complete")
    recalled = await act(api, advisor, first["reference"], "recall")
    assert recalled["status"] == "CALLED"
    await act(api, advisor, first["reference"], "no-show")
    again = await api.post(f"/api/tickets/{first['reference']}/recall", headers=advisor.headers)
    assert again.status_code == 409, again.text
    message = again.json()["message"]
    assert "workflow" not in message.lower() and "ya fue llamado nuevamente" in message


async def test_a_transfer_to_the_same_queue_is_a_plain_409(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Derivar")
    advisor = await add_advisor(db, api, branch, desk=1, queues=["EMPRESAS"])
    ticket = await create(api, branch)
    resp = await api.post(
        f"/api/tickets/{ticket['reference']}/transfer",
        json={"queue": "CAJA", "reason": "misma fila"},
        headers=advisor.headers,
    )
    assert resp.status_code == 409, resp.text
    assert resp.json()["queue"] == "CAJA" and "ya está en la fila" in resp.json()["message"]
    assert await status_of(api, ticket["reference"]) == "WAITING"


async def test_staff_act_on_a_ticket_by_its_number_within_their_branch(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Numero")
    other = await add_branch(api, "Numero")
    advisor = await add_advisor(db, api, branch, desk=2, queues=["CAJA"])
    await add_advisor(db, api, other, desk=2, queues=["CAJA"])
    ticket = await create(api, branch)
    elsewhere = await create(api, other, "EMPRESAS")
    moved = await api.post(
        f"/api/tickets/{ticket['number'].lower()}/transfer",
        json={"queue": "EMPRESAS", "reason": "por número"},
        headers=advisor.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["reference"] == ticket["reference"] and moved.json()["queue"] == "EMPRESAS"

    unknown = await api.post(
        "/api/tickets/Z99/transfer", json={"queue": "CAJA"}, headers=advisor.headers
    )
    assert unknown.status_code == 404, unknown.text
    not_here = await api.post(
        f"/api/tickets/{elsewhere['number']}/transfer?branch={quote(branch)}",
        json={"queue": "CAJA"},
        headers=advisor.headers,
    )
    assert not_here.status_code in (403, 404), not_here.text
    foreign = await api.post(
        f"/api/tickets/{elsewhere['number']}/transfer?branch={quote(other)}",
        json={"queue": "CAJA"},
        headers=advisor.headers,
    )
    assert foreign.status_code == 403, foreign.text
    assert await status_of(api, elsewhere["reference"]) == "WAITING"
    history = await api.get(f"/api/tickets/{ticket['number']}/history", headers=advisor.headers)
    assert history.status_code == 200, history.text
    assert history.json()["ticket"]["reference"] == ticket["reference"]
    customer = await api.post(f"/api/tickets/{ticket['number']}/cancel")
    assert customer.status_code == 422
