"""A ticket workflow outlives what happens to its read model: a row gone after a restore,
a creation that committed its row and then failed (time-skipping test server)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.lifecycle import LifecycleActivities
from activities.notifications import NotificationActivities
from activities.publisher import Publisher
from activities.tickets import TicketActivities
from domain.contracts import (
    CREATE_TICKET,
    ERR_INVALID_TRANSITION,
    ERR_TICKET_GONE,
    TRANSITION_UPDATE,
    CreateOutcome,
    NewTicket,
    TicketOutcome,
    TicketState,
    Transition,
    ticket_workflow_id,
)
from tests.support.data import branch_name
from tests.support.stack import Stack
from workflows.notification import NotificationWorkflow
from workflows.ticket import TicketWorkflow

QUEUE = "resilience-test"


def new_ticket() -> NewTicket:
    return NewTicket(
        reference=uuid.uuid4(),
        branch_office=branch_name(),
        queue="CAJA",
        national_id_hash=uuid.uuid4().hex,
        national_id_masked="*****999",
        fingerprint="f",
        requested_at=datetime.now(UTC),
    )


async def refused(handle: WorkflowHandle[TicketWorkflow, object], **fields: object) -> str:
    """Send a transition that must be refused, promptly; the refusal's type."""
    async with asyncio.timeout(15):
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await handle.execute_update(
                TRANSITION_UPDATE, Transition(**fields), result_type=TicketState
            )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return str(cause.type)


async def status_of(engine: AsyncEngine, reference: uuid.UUID) -> str | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT status FROM ticket WHERE reference = :r"), {"r": reference}
            )
        ).first()
    return None if row is None else str(row.status)


async def test_a_ticket_whose_row_is_gone_still_answers_and_expires(
    env: WorkflowEnvironment, engine: AsyncEngine, stack: Stack
) -> None:
    publisher = Publisher(stack.env["RABBITMQ_URL"], "ticketero.events")
    tickets = TicketActivities(engine, "America/Santiago")
    lifecycle = LifecycleActivities(engine, env.client, publisher)
    notes = NotificationActivities(engine, publisher)
    new = new_ticket()
    async with Worker(
        env.client,
        task_queue=QUEUE,
        workflows=[TicketWorkflow, NotificationWorkflow],
        activities=[
            tickets.create_ticket,
            lifecycle.apply_transition,
            lifecycle.after_queue_change,
            lifecycle.link_chat,
            notes.enqueue_notification,
        ],
    ):
        handle = await env.client.start_workflow(
            TicketWorkflow.run, new, id=ticket_workflow_id(new.reference), task_queue=QUEUE
        )
        await handle.execute_update(TicketWorkflow.create, new.fingerprint)
        async with engine.begin() as conn:  # a restore from before the ticket existed
            await conn.execute(
                text("DELETE FROM ticket_event WHERE ticket_reference = :r"), {"r": new.reference}
            )
            await conn.execute(
                text("DELETE FROM ticket WHERE reference = :r"), {"r": new.reference}
            )

        call = {"action": "CALL", "actor": "advisor:1", "advisor_id": 1, "desk": 1}
        assert await refused(handle, **call) == ERR_TICKET_GONE
        # Rolled back, lock released: the next updates are judged on WAITING, at once.
        assert (await handle.query(TicketWorkflow.state)).status == "WAITING"
        assert await refused(handle, action="START", actor="advisor:1") == ERR_INVALID_TRANSITION
        assert await refused(handle, action="CANCEL", actor="customer:web") == ERR_TICKET_GONE
        async with asyncio.timeout(30):
            outcome = TicketOutcome.model_validate(await handle.result())
    await publisher.close()
    assert outcome.final_status == "EXPIRED"


async def test_a_creation_that_failed_after_its_insert_leaves_no_waiting_row(
    env: WorkflowEnvironment, engine: AsyncEngine, stack: Stack
) -> None:
    real = TicketActivities(engine, "America/Santiago")
    publisher = Publisher(stack.env["RABBITMQ_URL"], "ticketero.events")
    lifecycle = LifecycleActivities(engine, env.client, publisher)

    @activity.defn(name=CREATE_TICKET)
    async def create_then_fail(new: NewTicket) -> CreateOutcome:
        await real.create_ticket(new)  # the row is committed...
        raise ApplicationError("publisher down", non_retryable=True)  # ...the update fails

    new = new_ticket()
    async with Worker(
        env.client,
        task_queue=QUEUE + "-orphan",
        workflows=[TicketWorkflow],
        activities=[
            create_then_fail,
            lifecycle.apply_transition,
        ],
    ):
        handle = await env.client.start_workflow(
            TicketWorkflow.run,
            new,
            id=ticket_workflow_id(new.reference),
            task_queue=QUEUE + "-orphan",
        )
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(TicketWorkflow.create, new.fingerprint)
        assert await status_of(engine, new.reference) == "WAITING"
        async with asyncio.timeout(30):
            outcome = TicketOutcome.model_validate(await handle.result())
    await publisher.close()
    assert outcome.final_status == "NOT_CREATED"
    assert await status_of(engine, new.reference) == "EXPIRED"
