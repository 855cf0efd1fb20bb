"""A reservation stranded by a crash (issue 14, point 3): reserved for an advisor, its CALL
never sent because the process died in between. The reserved ticket's workflow was told
before the reservation committed and times the CALL itself (5 s, on the time-skipping
server), instead of waiting for the branch's next dispatch (30 s at the earliest). A
replayed creation (a client retrying) dispatches its waiting ticket again.

Real PostgreSQL and activities; the time-skipping test server for the timers (the same on
the test stack, with a real process kill: test_reservation_on_the_stack.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.publisher import Publisher
from assignment import claims, dispatcher
from db.tickets import ensure_branch
from domain.contracts import RESERVED_SIGNAL, NewTicket, TicketState, ticket_workflow_id
from tests.support.data import branch_name
from tests.support.stack import Stack
from tests.support.wait import eventually
from tests.workflows.conftest import ticket_worker as real_worker
from workflows.ticket import RESERVATION_GRACE, TicketWorkflow

QUEUE = "reservation-timer-test"
#: How soon the branch's own dispatch would send a stranded reservation's CALL again.
SWEEP = dispatcher.STRANDED_AFTER

Handle = WorkflowHandle[TicketWorkflow, object]


@asynccontextmanager
async def ticket_worker(
    env: WorkflowEnvironment, db: AsyncEngine, stack: Stack
) -> AsyncIterator[None]:
    publisher = Publisher(stack.env["RABBITMQ_URL"], "ticketero.events")
    async with real_worker(env, db, publisher, QUEUE):
        yield
    await publisher.close()


async def advisor_at(db: AsyncEngine, branch: str, status: str = "OFFLINE") -> int:
    """An advisor serving CAJA at a new branch; OFFLINE: no dispatch reaches them."""
    async with db.begin() as conn:
        row = await ensure_branch(conn, branch, "America/Santiago")
        advisor_id: int = (
            await conn.execute(
                text(
                    "INSERT INTO advisor (branch_id, name, email, desk, queues, status)"
                    " VALUES (:b, 'Asesora Dos', :e, 4, :q, :s) RETURNING id"
                ),
                {
                    "b": row.id,
                    "e": f"a{uuid.uuid4().hex[:12]}@test.example",
                    "q": ["CAJA"],
                    "s": status,
                },
            )
        ).scalar_one()
    return advisor_id


async def create(env: WorkflowEnvironment, branch: str) -> tuple[NewTicket, Handle]:
    new = NewTicket(
        reference=uuid.uuid4(),
        branch_office=branch,
        queue="CAJA",
        national_id_hash=uuid.uuid4().hex,
        national_id_masked="*****999",
        fingerprint="f",
        requested_at=datetime.now(UTC),
    )
    # The time-skipping server lacks update-with-start; start, then update (same handlers).
    handle: Handle = await env.client.start_workflow(
        TicketWorkflow.run, new, id=ticket_workflow_id(new.reference), task_queue=QUEUE
    )
    result = await handle.execute_update(TicketWorkflow.create, new.fingerprint)
    assert result.created
    return new, handle


async def called_by(handle: Handle, advisor_id: int) -> TicketState | None:
    state = await handle.query(TicketWorkflow.state)
    return state if state.status == "CALLED" and state.advisor_id == advisor_id else None


async def row_of(db: AsyncEngine, reference: uuid.UUID) -> tuple[str, int | None]:
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT status, advisor_id FROM ticket WHERE reference = :r"),
                {"r": reference},
            )
        ).one()
    return str(row.status), row.advisor_id


async def events(handle: Handle) -> list[HistoryEvent]:
    return [event async for event in handle.fetch_history_events()]


def reservation_timer(history: list[HistoryEvent]) -> timedelta | None:
    """The first timer the workflow started after being told of the reservation."""
    told = False
    for event in history:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            told = told or event.workflow_execution_signaled_event_attributes.signal_name == (
                RESERVED_SIGNAL
            )
        elif told and event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            return event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    return None


def seconds_from_reservation_to_call(history: list[HistoryEvent]) -> float:
    """Workflow time between the reservation's announcement and the CALL's acceptance."""
    told = next(
        e.event_time.ToDatetime()
        for e in history
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    )
    called = next(
        e.event_time.ToDatetime()
        for e in history
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == "transition"
    )
    return (called - told).total_seconds()


async def test_a_reservation_whose_call_was_lost_is_called_by_its_own_timer(
    env: WorkflowEnvironment, db: AsyncEngine, stack: Stack
) -> None:
    branch = branch_name("Reserva")
    advisor = await advisor_at(db, branch)
    async with ticket_worker(env, db, stack):
        new, handle = await create(env, branch)
        # The advisor's "call next" reserves the ticket, and its process dies right after
        # the reservation commits: the CALL is never sent.
        claim = await dispatcher.reserve(db, env.client, advisor, auto=False)
        assert claim is not None and claim.reference == new.reference
        assert await row_of(db, new.reference) == ("WAITING", advisor)

        timer = await eventually(
            lambda: _timer(handle), what="the workflow timing the reservation's CALL"
        )
        assert timer <= RESERVATION_GRACE < SWEEP / 3
        await env.sleep(RESERVATION_GRACE.total_seconds())
        state = await eventually(
            lambda: called_by(handle, advisor), timeout=20, what="the reservation's CALL"
        )
        assert state.desk == 4
        await eventually(
            lambda: _row_is(db, new.reference, ("CALLED", advisor)), what="the CALL recorded"
        )
        took = seconds_from_reservation_to_call(await events(handle))
    assert took < SWEEP.total_seconds() / 2, f"called {took:.1f} s after the reservation"


async def test_a_replayed_creation_dispatches_its_waiting_ticket_to_an_idle_advisor(
    env: WorkflowEnvironment, db: AsyncEngine, stack: Stack
) -> None:
    branch = branch_name("Reintento")
    advisor = await advisor_at(db, branch)
    async with ticket_worker(env, db, stack):
        new, handle = await create(env, branch)  # nobody free: it waits
        # The advisor becomes AVAILABLE, and the dispatch that should follow is lost (the
        # process that set the status died before it).
        await claims.set_status(db, advisor, "AVAILABLE", datetime.now(UTC))
        assert (await handle.query(TicketWorkflow.state)).status == "WAITING"

        # The client retries its creation (same request, same workflow): a replay.
        replayed = await handle.execute_update(TicketWorkflow.create, new.fingerprint)
        assert not replayed.created and replayed.ticket.reference == new.reference
        await eventually(
            lambda: called_by(handle, advisor), timeout=20, what="the waiting ticket called"
        )
        await eventually(
            lambda: _row_is(db, new.reference, ("CALLED", advisor)), what="the CALL recorded"
        )


async def test_a_replayed_creation_sends_the_call_of_its_stranded_reservation(
    env: WorkflowEnvironment, db: AsyncEngine, stack: Stack
) -> None:
    """A reservation nobody announced (made by a process of the code before the timer):
    the replayed creation sends its CALL at once, without the 30 s sweep."""
    branch = branch_name("Varada")
    advisor = await advisor_at(db, branch)
    async with ticket_worker(env, db, stack):
        new, handle = await create(env, branch)
        claim = await claims.claim_next(db, advisor, datetime.now(UTC), auto=False)
        assert claim is not None and claim.reference == new.reference
        await handle.execute_update(TicketWorkflow.create, new.fingerprint)
        await eventually(
            lambda: called_by(handle, advisor), timeout=20, what="the stranded CALL sent"
        )
        assert reservation_timer(await events(handle)) is None  # not by a timer
        await eventually(
            lambda: _row_is(db, new.reference, ("CALLED", advisor)), what="the CALL recorded"
        )


async def _timer(handle: Handle) -> timedelta | None:
    return reservation_timer(await events(handle))


async def _row_is(db: AsyncEngine, reference: uuid.UUID, expected: tuple[str, int]) -> bool:
    return await row_of(db, reference) == expected
