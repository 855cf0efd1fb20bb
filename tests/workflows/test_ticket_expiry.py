"""Time-dependent ticket logic, driven by the time-skipping test server (no real waiting)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.lifecycle import LifecycleActivities
from activities.notifications import NotificationActivities
from activities.publisher import Publisher
from activities.tickets import TicketActivities
from domain.contracts import NewTicket, TicketOutcome, ticket_workflow_id
from tests.support.data import branch_name, chat_id
from tests.support.stack import Stack
from tests.support.wait import eventually
from workflows.notification import NotificationWorkflow
from workflows.ticket import TicketWorkflow


def new_ticket(branch: str) -> NewTicket:
    return NewTicket(
        reference=uuid.uuid4(),
        branch_office=branch,
        queue="CAJA",
        national_id_hash=uuid.uuid4().hex,
        national_id_masked="*****999",
        fingerprint="f",
        requested_at=datetime.now(UTC),
    )


async def test_open_ticket_expires_at_end_of_business_day(
    env: WorkflowEnvironment, engine: AsyncEngine, stack: Stack
) -> None:
    publisher = Publisher(stack.env["RABBITMQ_URL"], "ticketero.events")
    tickets = TicketActivities(engine, "America/Santiago")
    notes = NotificationActivities(engine, publisher)
    lifecycle = LifecycleActivities(engine, env.client, publisher)
    new = new_ticket(branch_name())
    async with Worker(
        env.client,
        task_queue="expiry-test",
        workflows=[TicketWorkflow, NotificationWorkflow],
        activities=[
            tickets.create_ticket,
            lifecycle.apply_transition,
            lifecycle.after_queue_change,
            notes.enqueue_notification,
        ],
    ):
        # The time-skipping server lacks update-with-start; start, then update (same handlers).
        handle = await env.client.start_workflow(
            TicketWorkflow.run, new, id=ticket_workflow_id(new.reference), task_queue="expiry-test"
        )
        created = await handle.execute_update(TicketWorkflow.create, new.fingerprint)
        assert created.created and created.ticket.status == "WAITING"
        outcome = TicketOutcome.model_validate(await handle.result())
    await publisher.close()

    assert outcome.final_status == "EXPIRED"
    async with engine.connect() as conn:
        status = (
            await conn.execute(
                text("SELECT status FROM ticket WHERE reference = :r"), {"r": new.reference}
            )
        ).scalar_one()
        trail = (
            await conn.execute(
                text(
                    "SELECT action, to_status, actor FROM ticket_event"
                    " WHERE ticket_reference = :r ORDER BY at, id"
                ),
                {"r": new.reference},
            )
        ).all()
    assert status == "EXPIRED"
    assert [(t.action, t.to_status) for t in trail] == [
        ("CREATE", "WAITING"),
        ("EXPIRE", "EXPIRED"),
    ]
    assert trail[-1].actor == "system"


async def test_expiry_sends_the_day_end_message_to_the_linked_chat(
    env: WorkflowEnvironment, engine: AsyncEngine, stack: Stack
) -> None:
    publisher = Publisher(stack.env["RABBITMQ_URL"], "ticketero.events")
    tickets = TicketActivities(engine, "America/Santiago")
    notes = NotificationActivities(engine, publisher)
    lifecycle = LifecycleActivities(engine, env.client, publisher)
    branch = branch_name()
    new = new_ticket(branch).model_copy(update={"telegram_chat_id": chat_id()})

    async def expiry_message() -> tuple[str, str] | None:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT type, text AS body FROM mensaje WHERE ticket_reference = :r"
                        " AND type = 'EXPIRED'"
                    ),
                    {"r": new.reference},
                )
            ).first()
        return (str(row.type), str(row.body)) if row is not None else None

    async with Worker(
        env.client,
        task_queue="expiry-message-test",
        workflows=[TicketWorkflow, NotificationWorkflow],
        activities=[
            tickets.create_ticket,
            lifecycle.apply_transition,
            lifecycle.after_queue_change,
            notes.enqueue_notification,
        ],
    ):
        handle = await env.client.start_workflow(
            TicketWorkflow.run,
            new,
            id=ticket_workflow_id(new.reference),
            task_queue="expiry-message-test",
        )
        await handle.execute_update(TicketWorkflow.create, new.fingerprint)
        outcome = TicketOutcome.model_validate(await handle.result())
        found = await eventually(expiry_message, timeout=15, what="the EXPIRED message")
    await publisher.close()

    assert outcome.final_status == "EXPIRED"
    kind, body = found
    assert kind == "EXPIRED"
    assert "venció al cierre de la jornada" in body
    assert body.count("Sucursal") == 1, body
