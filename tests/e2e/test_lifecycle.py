"""A ticket's life through the API: advisors call, serve and finish; customers cancel.

Long because it walks each transition of the state machine end to end on one shared stack.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.contracts import Transition
from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.stack import Stack
from tests.support.staff import Staff, add_advisor, add_user
from tests.support.wait import eventually
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.e2e


async def create(api: httpx.AsyncClient, branch: str, queue: str = "CAJA") -> dict[str, Any]:
    resp = await api.post("/api/tickets", json=ticket_body(branch, queue))
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def status_of(api: httpx.AsyncClient, reference: str) -> str:
    return str((await api.get(f"/api/tickets/{reference}")).json()["status"])


async def wait_status(api: httpx.AsyncClient, reference: str, expected: str) -> None:
    async def probe() -> bool:
        return await status_of(api, reference) == expected

    await eventually(probe, timeout=15, what=f"ticket {reference} to be {expected}")


async def trail(db: AsyncEngine, reference: str) -> list[tuple[str, str | None, str, str]]:
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT action, from_status, to_status, actor FROM ticket_event"
                    " WHERE ticket_reference = :r ORDER BY at, id"
                ),
                {"r": reference},
            )
        ).all()
    return [(r.action, r.from_status, r.to_status, r.actor) for r in rows]


async def act(
    api: httpx.AsyncClient, who: Staff | None, reference: str, action: str, **body: Any
) -> httpx.Response:
    headers = who.headers if who else {}
    return await api.post(f"/api/tickets/{reference}/{action}", json=body or None, headers=headers)


async def test_available_advisor_is_given_the_new_ticket_and_serves_it(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    advisor = await add_advisor(db, api, branch, desk=4, queues=["CAJA"])
    resp = await api.put(
        "/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=advisor.headers
    )
    assert resp.status_code == 200 and resp.json()["ticket"] is None

    ticket = await create(api, branch)
    await wait_status(api, ticket["reference"], "CALLED")
    me = (await api.get("/api/advisors/me", headers=advisor.headers)).json()
    assert me["status"] == "BUSY"
    assert me["ticket"]["reference"] == ticket["reference"]
    assert me["ticket"]["desk"] == 4

    started = await act(api, advisor, ticket["reference"], "start")
    assert started.status_code == 200 and started.json()["status"] == "IN_SERVICE"
    done = await act(api, advisor, ticket["reference"], "complete")
    assert done.status_code == 200 and done.json()["status"] == "COMPLETED"

    me = (await api.get("/api/advisors/me", headers=advisor.headers)).json()
    assert me["status"] == "AVAILABLE" and me["ticket"] is None
    assert [(a, f, t) for a, f, t, _ in await trail(db, ticket["reference"])] == [
        ("CREATE", None, "WAITING"),
        ("CALL", "WAITING", "CALLED"),
        ("START", "CALLED", "IN_SERVICE"),
        ("COMPLETE", "IN_SERVICE", "COMPLETED"),
    ]


async def test_call_next_takes_the_oldest_ticket_and_refuses_a_second(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    first, second = await create(api, branch), await create(api, branch)
    advisor = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])

    called = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    assert called.status_code == 200, called.text
    assert called.json()["ticket"]["reference"] == first["reference"]
    assert called.json()["ticket"]["status"] == "CALLED"
    again = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    assert again.status_code == 409
    assert await status_of(api, second["reference"]) == "WAITING"
    position = (await api.get(f"/api/tickets/{second['reference']}")).json()["position"]
    assert position == 1


async def test_call_next_with_nothing_waiting_leaves_the_advisor_available(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    advisor = await add_advisor(db, api, await add_branch(api), desk=2, queues=["EMPRESAS"])
    resp = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    assert resp.status_code == 200
    assert resp.json()["ticket"] is None and resp.json()["status"] == "AVAILABLE"


async def test_invalid_transition_is_409_and_changes_nothing(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    ticket = await create(api, branch)
    advisor = await add_advisor(db, api, branch, desk=3, queues=["CAJA"])
    before = await trail(db, ticket["reference"])

    for action in ("start", "complete", "no-show"):
        resp = await act(api, advisor, ticket["reference"], action)
        assert resp.status_code == 409, (action, resp.text)
        assert resp.json()["currentStatus"] == "WAITING"
        assert "WAITING" in resp.json()["message"]

    assert await status_of(api, ticket["reference"]) == "WAITING"
    assert await trail(db, ticket["reference"]) == before


async def test_only_the_calling_advisor_may_serve_the_ticket(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    ticket = await create(api, branch)
    holder = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    other = await add_advisor(db, api, branch, desk=2, queues=["CAJA"])
    await api.post("/api/advisors/me/call-next", headers=holder.headers)
    resp = await act(api, other, ticket["reference"], "start")
    assert resp.status_code == 403
    assert await status_of(api, ticket["reference"]) == "CALLED"


async def test_authentication_and_roles(api: httpx.AsyncClient, db: AsyncEngine) -> None:
    branch = await add_branch(api)
    ticket = await create(api, branch)
    supervisor = await add_user(db, api, "supervisor")

    assert (await act(api, None, ticket["reference"], "start")).status_code == 401
    assert (await api.post("/api/advisors/me/call-next")).status_code == 401
    assert (await act(api, supervisor, ticket["reference"], "start")).status_code == 403
    assert (
        await api.post("/api/advisors/me/call-next", headers=supervisor.headers)
    ).status_code == 403
    assert await status_of(api, ticket["reference"]) == "WAITING"


async def test_customer_cancels_once(api: httpx.AsyncClient, db: AsyncEngine) -> None:
    branch = await add_branch(api)
    first, second = await create(api, branch), await create(api, branch)
    resp = await act(api, None, first["reference"], "cancel", reason="me tengo que ir")
    assert resp.status_code == 200 and resp.json()["status"] == "CANCELLED"
    assert (await api.get(f"/api/tickets/{second['reference']}")).json()["position"] == 1
    again = await act(api, None, first["reference"], "cancel")
    assert again.status_code == 409 and again.json()["currentStatus"] == "CANCELLED"
    actions = await trail(db, first["reference"])
    assert actions[-1] == ("CANCEL", "WAITING", "CANCELLED", "customer")


async def test_transfer_keeps_the_arrival_time(api: httpx.AsyncClient, db: AsyncEngine) -> None:
    branch = await add_branch(api)
    early = await create(api, branch, "CAJA")
    late = await create(api, branch, "EMPRESAS")
    advisor = await add_advisor(db, api, branch, desk=5, queues=["CAJA"])
    await api.post("/api/advisors/me/call-next", headers=advisor.headers)

    bad = await act(api, advisor, early["reference"], "transfer", queue="NOPE")
    assert bad.status_code == 422
    moved = await act(api, advisor, early["reference"], "transfer", queue="EMPRESAS")
    assert moved.status_code == 200, moved.text
    assert moved.json()["queue"] == "EMPRESAS" and moved.json()["status"] == "WAITING"
    assert moved.json()["number"] == early["number"]
    assert moved.json()["position"] == 1
    assert (await api.get(f"/api/tickets/{late['reference']}")).json()["position"] == 2
    me = (await api.get("/api/advisors/me", headers=advisor.headers)).json()
    assert me["ticket"] is None


async def test_no_show_can_be_recalled_once(api: httpx.AsyncClient, db: AsyncEngine) -> None:
    branch = await add_branch(api)
    ticket = await create(api, branch, "PERSONAL_BANKER")
    advisor = await add_advisor(db, api, branch, desk=6, queues=["PERSONAL_BANKER"])
    await api.post("/api/advisors/me/call-next", headers=advisor.headers)

    assert (await act(api, advisor, ticket["reference"], "no-show")).json()["status"] == "NO_SHOW"
    recalled = await act(api, advisor, ticket["reference"], "recall")
    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["status"] == "CALLED"
    assert (await act(api, advisor, ticket["reference"], "no-show")).json()["status"] == "NO_SHOW"
    twice = await act(api, advisor, ticket["reference"], "recall")
    assert twice.status_code == 409
    assert await status_of(api, ticket["reference"]) == "NO_SHOW"


async def _first_call(
    api: httpx.AsyncClient, db: AsyncEngine, *, caja_waited_minutes: float
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    branch = await add_branch(api)
    caja = await create(api, branch, "CAJA")
    gerencia = await create(api, branch, "GERENCIA")
    async with db.begin() as conn:
        await conn.execute(
            text("UPDATE ticket SET arrived_at = :t WHERE reference = :r"),
            {
                "t": datetime.now(UTC) - timedelta(minutes=caja_waited_minutes),
                "r": caja["reference"],
            },
        )
    advisor = await add_advisor(db, api, branch, desk=1, queues=["CAJA", "GERENCIA"])
    called = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    assert called.status_code == 200, called.text
    return str(called.json()["ticket"]["reference"]), caja, gerencia


async def test_priority_first_while_nobody_is_overdue(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    called, _, gerencia = await _first_call(api, db, caja_waited_minutes=10)
    assert called == gerencia["reference"]


async def test_overdue_caja_ticket_goes_before_fresh_gerencia(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    """Anti-starvation: past its target wait (15 min), a teller ticket beats GERENCIA."""
    called, caja, gerencia = await _first_call(api, db, caja_waited_minutes=16)
    assert called == caja["reference"]
    assert await status_of(api, gerencia["reference"]) == "WAITING"


def metric(text_body: str, prefix: str) -> float:
    for line in text_body.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_lifecycle_metrics(api: httpx.AsyncClient, db: AsyncEngine) -> None:
    branch = await add_branch(api)
    before = (await api.get("/actuator/prometheus")).text
    served, waiting = await create(api, branch, "EMPRESAS"), await create(api, branch, "EMPRESAS")
    advisor = await add_advisor(db, api, branch, desk=9, queues=["EMPRESAS"])
    await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    await act(api, advisor, served["reference"], "start")
    await act(api, advisor, served["reference"], "complete")
    await wait_status(api, waiting["reference"], "CALLED")  # automatic assignment

    after = (await api.get("/actuator/prometheus")).text
    completed = 'tickets_completed_total{queue="EMPRESAS"}'
    assert metric(after, completed) - metric(before, completed) == 1
    waits = 'ticket_wait_seconds_count{queue="EMPRESAS"}'
    assert metric(after, waits) - metric(before, waits) == 2
    service = 'ticket_service_seconds_count{queue="EMPRESAS"}'
    assert metric(after, service) - metric(before, service) == 1
    assert 'ticket_service_seconds_bucket{le="30.0",queue="EMPRESAS"}' in after
    assert f'advisors{{branch="{branch}",status="BUSY"}} 1.0' in after
    assert 'tickets_waiting{branch="' in after


async def test_ticket_coming_within_the_threshold_is_notified(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    """Threshold 3: tickets created at positions 1-3 stay WAITING; the 4th and 5th become
    NOTIFIED once the line ahead of them shrinks."""
    branch = await add_branch(api)
    tickets = [await create(api, branch, "PERSONAL_BANKER") for _ in range(5)]
    advisor = await add_advisor(db, api, branch, desk=7, queues=["PERSONAL_BANKER"])
    await api.post("/api/advisors/me/call-next", headers=advisor.headers)  # takes #1

    await wait_status(api, tickets[3]["reference"], "NOTIFIED")  # now position 3
    assert await status_of(api, tickets[4]["reference"]) == "WAITING"  # position 4
    assert await status_of(api, tickets[1]["reference"]) == "WAITING"  # created inside
    await act(api, None, tickets[1]["reference"], "cancel")
    await wait_status(api, tickets[4]["reference"], "NOTIFIED")
    got = (await api.get(f"/api/tickets/{tickets[4]['reference']}")).json()
    assert got["position"] == 3


async def test_reservation_stranded_by_a_crash_is_called_later(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    """A process died between reserving a ticket and calling it: the next dispatch in the
    branch sends the CALL again, so neither the ticket nor the advisor stays stuck."""
    branch = await add_branch(api)
    stuck = await create(api, branch, "CAJA")
    holder = await add_advisor(db, api, branch, desk=11, queues=["CAJA"])
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE ticket SET advisor_id = :a, claimed_at = now() - interval '1 minute'"
                " WHERE reference = :r"
            ),
            {"a": holder.advisor_id, "r": stuck["reference"]},
        )
        await conn.execute(
            text("UPDATE advisor SET current_ticket = :r, status = 'BUSY' WHERE id = :a"),
            {"a": holder.advisor_id, "r": stuck["reference"]},
        )
    helper = await add_advisor(db, api, branch, desk=12, queues=["CAJA"])
    await api.put("/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=helper.headers)

    newer = await create(api, branch, "CAJA")  # a free advisor exists: the branch dispatches

    await wait_status(api, stuck["reference"], "CALLED")
    assert (await api.get(f"/api/tickets/{stuck['reference']}")).json()["desk"] == 11
    await wait_status(api, newer["reference"], "CALLED")
    assert (await api.get(f"/api/tickets/{newer['reference']}")).json()["desk"] == 12


async def test_call_reserved_before_a_transfer_is_refused(
    api: httpx.AsyncClient, db: AsyncEngine, stack: Stack
) -> None:
    """A reservation made in CAJA is void once the ticket moved to EMPRESAS."""
    branch = await add_branch(api)
    ticket = await create(api, branch, "CAJA")
    supervisor = await add_user(db, api, "supervisor")
    moved = await act(api, supervisor, ticket["reference"], "transfer", queue="EMPRESAS")
    assert moved.status_code == 200 and moved.json()["queue"] == "EMPRESAS"
    client = await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
    late_call = Transition(
        action="CALL", actor="system", advisor_id=1, desk=1, expected_queue="CAJA"
    )
    with pytest.raises(WorkflowUpdateFailedError):
        await client.get_workflow_handle(f"ticket-{ticket['reference']}").execute_update(
            TicketWorkflow.transition, late_call
        )
    assert await status_of(api, ticket["reference"]) in ("WAITING", "NOTIFIED")
