"""Record ticket and notification histories from the code as it is now, as replay fixtures.

Run on a version you are about to change (before changing workflow code):

    RECORD_HISTORIES=1 .venv/bin/python scripts/run_pytest.py tests/workflows/record_histories.py

Each ticket life below runs on the time-skipping test server against the test stack's
database; `fetch_history().to_json()` lands in `tests/workflows/histories/<name>.json`,
which `test_replay.py` replays against today's workflows on every `make test`.
Fixtures are never overwritten: a new version records new files beside the old ones.
Tickets are created as `TEMPORAL_CREATE_MODE=row_then_start` creates them (v6: a plain
start; v7 on: with its `create` update); v5 and earlier hold the default mode's creation
(the `create` update's local activity), whose commands have not changed since.
The time-skipping server now and then jumps a later ticket to its day end while an earlier
one's result is awaited (an expired ticket cannot be called): delete that run's files and
record again.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notifications import start_message_workflow
from activities.publisher import Publisher
from api.services import adoption
from assignment import claims, dispatcher
from db.tickets import create_ticket, ensure_branch
from domain.contracts import (
    CREATE_UPDATE,
    MSG_CREATED,
    MSG_YOUR_TURN,
    REPORT_DELIVERY_SIGNAL,
    TRANSITION_UPDATE,
    CreateResult,
    DeliveryReport,
    NewTicket,
    TicketState,
    Transition,
    notification_workflow_id,
    ticket_workflow_id,
)
from tests.support.data import branch_name, chat_id
from tests.support.stack import Stack
from tests.workflows.conftest import ticket_worker, time_skipping
from workflows.search import ensure_search_attributes
from workflows.ticket import RESERVATION_GRACE, TicketWorkflow

HISTORIES = Path(__file__).parent / "histories"
QUEUE = "record-histories"
TAG = os.environ.get("RECORD_HISTORIES", "")

pytestmark = pytest.mark.skipif(not TAG, reason="set RECORD_HISTORIES=<version tag> to record")


def new_ticket(branch: str, chat: int | None = None) -> NewTicket:
    return NewTicket(
        reference=uuid.uuid4(),
        branch_office=branch,
        queue="CAJA",
        national_id_hash=uuid.uuid4().hex,
        national_id_masked="*****999",
        telegram_chat_id=chat,
        fingerprint="f",
        requested_at=datetime.now(UTC),
    )


async def offline_advisor(engine: AsyncEngine, branch: str) -> int:
    """An advisor nobody dispatches to (OFFLINE): the test sends every CALL itself."""
    async with engine.begin() as conn:
        row = await ensure_branch(conn, branch, "America/Santiago")
        advisor_id: int = (
            await conn.execute(
                text(
                    "INSERT INTO advisor (branch_id, name, email, desk, queues, status)"
                    " VALUES (:b, 'Asesor Uno', :e, 3, :q, 'OFFLINE') RETURNING id"
                ),
                {"b": row.id, "e": f"a{uuid.uuid4().hex[:12]}@test.example", "q": ["CAJA"]},
            )
        ).scalar_one()
        await conn.execute(
            text("UPDATE branch_queue SET no_show_seconds = 2 WHERE branch_id = :b"), {"b": row.id}
        )
    return advisor_id


async def start(
    client: Client, new: NewTicket, engine: AsyncEngine
) -> WorkflowHandle[TicketWorkflow, object]:
    """As the API creates a ticket: the row first, then its workflow started with it and
    its `create` update (the handle of that start: the time-skipping server skips time for
    its result only)."""
    outcome = await create_ticket(engine, new, "America/Santiago", workflow_pending=True)
    created = outcome.model_copy(
        update={"created_message_started": new.telegram_chat_id is not None, "create_follows": True}
    )
    started = new.model_copy(update={"created": created})
    message = adoption.created_message(new)
    if message is not None:
        await start_message_workflow(client, message, QUEUE)
    handle = await client.start_workflow(
        TicketWorkflow.run,
        started,
        id=ticket_workflow_id(new.reference),
        task_queue=QUEUE,
        search_attributes=adoption.given_attributes(started),
    )
    # The API's update-with-start; the test server takes it as start, then update.
    await handle.execute_update(CREATE_UPDATE, new.fingerprint, result_type=CreateResult)
    return handle


async def act(handle: WorkflowHandle[TicketWorkflow, object], **fields: object) -> TicketState:
    try:
        result: TicketState = await handle.execute_update(
            TRANSITION_UPDATE, Transition(**fields), result_type=TicketState
        )
    except Exception as err:
        raise AssertionError(f"{fields}: {getattr(err, 'cause', err)!r}") from err
    return result


async def until(handle: WorkflowHandle[TicketWorkflow, object], status: str) -> None:
    for _ in range(200):
        if (await handle.query(TicketWorkflow.state)).status == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never became {status}")


async def until_timer(handle: WorkflowHandle[TicketWorkflow, object]) -> None:
    """The workflow has started the reservation's timer (the last event is that timer)."""
    for _ in range(200):
        timers = [
            e
            async for e in handle.fetch_history_events()
            if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
        ]
        if any(t.timer_started_event_attributes.start_to_fire_timeout.seconds <= 5 for t in timers):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the reservation's timer never started")


async def save(client: Client, workflow_id: str, name: str) -> None:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    target = HISTORIES / f"{TAG}-{name}.json"
    assert not target.exists(), f"{target} exists: fixtures are never overwritten"
    target.write_text(history.to_json())


async def test_record(env: WorkflowEnvironment, engine: AsyncEngine, stack: Stack) -> None:
    publisher = Publisher(stack.env["RABBITMQ_URL"], "ticketero.events")
    client = env.client
    branch = branch_name("Replay")
    adv = await offline_advisor(engine, branch)
    call = {"action": "CALL", "actor": f"advisor:{adv}", "advisor_id": adv, "desk": 3}
    mine = {"actor": f"advisor:{adv}", "advisor_id": adv}
    async with worker(env, engine, publisher):
        # 2. created (with a chat), called, started, completed; its messages delivered.
        chat = chat_id()
        happy = new_ticket(branch, chat)
        h = await start(client, happy, engine)
        await act(h, **call, advisor_name="Ana Uno")
        await act(h, action="START", **mine)
        await act(h, action="COMPLETE", **mine)
        await h.result()
        for kind in (MSG_CREATED, MSG_YOUR_TURN):
            wid = notification_workflow_id(happy.reference, kind, 1)
            note = client.get_workflow_handle(wid)
            await note.signal(
                REPORT_DELIVERY_SIGNAL,
                DeliveryReport(message_id=uuid.uuid4(), outcome="SENT"),
            )
            await note.result()
            await save(client, wid, f"notification-{kind.lower()}-sent")
        await save(client, h.id, "ticket-completed")

        # 3. called, no-show by the timer, recalled once, served.
        ns = new_ticket(branch)
        h = await start(client, ns, engine)
        await act(h, **call)
        await until(h, "NO_SHOW")  # the branch's no-show wait is 2 s (real time)
        await act(h, action="RECALL", **mine, desk=3)
        await act(h, action="START", **mine)
        await act(h, action="COMPLETE", **mine)
        await h.result()
        await save(client, h.id, "ticket-no-show-recalled")

        # 4. called, transferred by its advisor, called again in the new queue, completed.
        tr = new_ticket(branch)
        h = await start(client, tr, engine)
        await act(h, **call)
        await act(h, action="TRANSFER", **mine, target_queue="PERSONAL_BANKER")
        await act(h, **call, expected_queue="PERSONAL_BANKER")
        await act(h, action="START", **mine)
        await act(h, action="COMPLETE", **mine)
        await h.result()
        await save(client, h.id, "ticket-transferred")

        # 5. cancelled by the customer while waiting.
        cn = new_ticket(branch)
        h = await start(client, cn, engine)
        await act(h, action="CANCEL", actor="customer:telegram", reason="via Telegram")
        await h.result()
        await save(client, h.id, "ticket-cancelled")

        # 6. reserved for an advisor whose CALL never came: called by the reservation's
        # timer, then served. 7. created again (a replayed creation) while an advisor is
        # idle: dispatched, served. A branch of their own (their advisor ends AVAILABLE).
        other = branch_name("Replay")
        idle = await offline_advisor(engine, other)
        mine = {"actor": f"advisor:{idle}", "advisor_id": idle}
        rs = new_ticket(other)
        h = await start(client, rs, engine)
        assert await dispatcher.reserve(engine, client, idle, auto=False) is not None
        await until_timer(h)
        await env.sleep(RESERVATION_GRACE.total_seconds())
        await until(h, "CALLED")
        await act(h, action="START", **mine)
        await act(h, action="COMPLETE", **mine)
        await h.result()
        await save(client, h.id, "ticket-reservation-timer")

        await claims.set_status(engine, idle, "OFFLINE", datetime.now(UTC))
        rc = new_ticket(other)
        h = await start(client, rc, engine)
        await claims.set_status(engine, idle, "AVAILABLE", datetime.now(UTC))
        await h.execute_update(CREATE_UPDATE, rc.fingerprint, result_type=CreateResult)  # replay
        await until(h, "CALLED")
        await act(h, action="START", **mine)
        await act(h, action="COMPLETE", **mine)
        await h.result()
        await save(client, h.id, "ticket-replayed-creation")

    # 1. nobody calls it: expired at the end of the business day. A server of its own:
    # the jump to the day's end would make every later ticket of this run start late.
    async with await time_skipping() as fresh, worker(fresh, engine, publisher):
        await ensure_search_attributes(fresh.client, "default")
        h = await start(fresh.client, new_ticket(branch), engine)
        await h.result()
        await save(fresh.client, h.id, "ticket-expired")
    await publisher.close()


def worker(env: WorkflowEnvironment, engine: AsyncEngine, publisher: Publisher) -> Worker:
    return ticket_worker(env, engine, publisher, QUEUE)
