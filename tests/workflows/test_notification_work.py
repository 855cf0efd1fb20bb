"""What a message costs Temporal (issue 15): a ticket created with a chat has its "created"
message started by the create activity, not as a child (the ticket's creation stays one
workflow task); a later message is a child started with its search attributes; and no
notification upserts its search attributes itself (one patch marker in all).

The real activities on the time-skipping server, against the test stack's database and
RabbitMQ; the bridge's report is signalled by the test.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.lifecycle import LifecycleActivities
from activities.notifications import NotificationActivities
from activities.publisher import Publisher
from activities.tickets import TicketActivities
from domain.contracts import (
    CREATE_TICKET,
    MSG_CREATED,
    MSG_YOUR_TURN,
    REPORT_DELIVERY_SIGNAL,
    TRANSITION_UPDATE,
    CreateOutcome,
    DeliveryReport,
    NewTicket,
    NotificationOutcome,
    TicketState,
    Transition,
    notification_workflow_id,
    ticket_workflow_id,
)
from tests.support.data import branch_name, chat_id
from tests.support.stack import Stack
from tests.support.wait import eventually
from tests.workflows.conftest import ticket_worker
from tests.workflows.record_histories import new_ticket, offline_advisor
from workflows.notification import NotificationWorkflow
from workflows.search import MESSAGE_KIND, TICKET_REFERENCE
from workflows.ticket import TicketWorkflow

QUEUE = "notification-work"


async def create(client: Client, new: NewTicket) -> WorkflowHandle[Any, Any]:
    # The time-skipping server lacks update-with-start: start, then update (two tasks).
    handle = await client.start_workflow(
        TicketWorkflow.run, new, id=ticket_workflow_id(new.reference), task_queue=QUEUE
    )
    await handle.execute_update(TicketWorkflow.create, new.fingerprint)
    return handle


async def events(handle: WorkflowHandle[Any, Any]) -> Counter[str]:
    return Counter(
        [
            EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
            async for e in handle.fetch_history_events()
        ]
    )


async def tail_after(handle: WorkflowHandle[Any, Any], kind: str) -> list[str]:
    """The event types after the last event of type `kind`."""
    names = [
        EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
        async for e in handle.fetch_history_events()
    ]
    last = len(names) - 1 - names[::-1].index(kind)
    return names[last + 1 :]


async def started(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except Exception:
        return False
    return True


async def delivered(client: Client, workflow_id: str) -> WorkflowHandle[Any, Any]:
    """Report the message SENT (as the bridge would) and wait for its workflow's end."""
    await eventually(lambda: started(client, workflow_id), what=f"{workflow_id} started")
    note = client.get_workflow_handle(workflow_id)
    await eventually(lambda: _has(note, "TIMER_STARTED", 1), what=f"{workflow_id} enqueued")
    await note.signal(
        REPORT_DELIVERY_SIGNAL, DeliveryReport(message_id=uuid.uuid4(), outcome="SENT")
    )
    # Polled, and its result read from the history, never awaited: awaiting a result lets
    # the test server skip time (to the ticket's expiry), even when it is there already.
    await eventually(lambda: closed(note), what=f"{workflow_id} closed")
    history = await note.fetch_history()
    done = history.events[-1].workflow_execution_completed_event_attributes
    [outcome] = await client.data_converter.decode(done.result.payloads, [NotificationOutcome])
    assert outcome.state == "SENT"
    return note


async def closed(handle: WorkflowHandle[Any, Any]) -> bool:
    return (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def _has(handle: WorkflowHandle[Any, Any], kind: str, count: int) -> bool:
    return (await events(handle))[kind] >= count


async def test_a_chat_ticket_and_its_messages_cost_few_workflow_tasks(
    env: WorkflowEnvironment, engine: AsyncEngine, stack: Stack
) -> None:
    publisher = Publisher(stack.env["RABBITMQ_URL"], "ticketero.events")
    client = env.client
    branch = branch_name("Work")
    adv = await offline_advisor(engine, branch)
    new = new_ticket(branch, chat_id())
    async with ticket_worker(env, engine, publisher, QUEUE):
        ticket = await create(client, new)
        created = await delivered(client, notification_workflow_id(new.reference, MSG_CREATED))
        at_creation = await events(ticket)
        after_create = await tail_after(ticket, "WORKFLOW_EXECUTION_UPDATE_COMPLETED")
        await ticket.execute_update(
            TRANSITION_UPDATE,
            Transition(action="CALL", actor=f"advisor:{adv}", advisor_id=adv, desk=3),
            result_type=TicketState,
        )
        called = await delivered(client, notification_workflow_id(new.reference, MSG_YOUR_TURN))
        after_call = await events(ticket)
        for action in ("START", "COMPLETE"):
            await ticket.execute_update(
                TRANSITION_UPDATE,
                Transition(action=action, actor=f"advisor:{adv}", advisor_id=adv),
                result_type=TicketState,
            )
        await ticket.result()
    await publisher.close()

    # The creation's task is the last one until the call: no child, so no child-started
    # or child-completed event wakes the ticket again.
    assert at_creation["START_CHILD_WORKFLOW_EXECUTION_INITIATED"] == 0, at_creation
    assert "WORKFLOW_TASK_SCHEDULED" not in after_create, after_create
    # The call's message is a child (the transition activity cannot start it).
    assert after_call["START_CHILD_WORKFLOW_EXECUTION_INITIATED"] == 1, after_call
    for note, kind in ((created, MSG_CREATED), (called, MSG_YOUR_TURN)):
        history = await events(note)
        # One patch marker, and only its own version upsert: the attributes came with the
        # start (before, two markers, two version upserts and the attributes' upsert).
        assert history["MARKER_RECORDED"] == 1, history
        assert history["UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"] == 1, history
        assert history["ACTIVITY_TASK_COMPLETED"] == 1, history
        attributes = (await note.describe()).typed_search_attributes
        assert attributes.get(TICKET_REFERENCE) == str(new.reference)
        assert attributes.get(MESSAGE_KIND) == kind


async def test_a_created_message_started_by_an_activity_whose_answer_was_lost_is_sent_once(
    env: WorkflowEnvironment, engine: AsyncEngine, stack: Stack
) -> None:
    """The create activity started the message but told the workflow it had not (its
    answer lost to a timeout): the workflow's own start finds it running and goes on."""
    publisher = Publisher(stack.env["RABBITMQ_URL"], "ticketero.events")
    real = TicketActivities(engine, "America/Santiago", publisher)
    notes = NotificationActivities(engine, publisher)
    lifecycle = LifecycleActivities(engine, env.client, publisher)

    @activity.defn(name=CREATE_TICKET)
    async def started_but_unsure(new: NewTicket) -> CreateOutcome:
        outcome = await real.create_ticket(new)
        assert outcome.created_message_started
        return outcome.model_copy(update={"created_message_started": False})

    new = new_ticket(branch_name("Work"), chat_id())
    async with Worker(
        env.client,
        task_queue=QUEUE,
        workflows=[TicketWorkflow, NotificationWorkflow],
        activities=[
            started_but_unsure,
            lifecycle.apply_transition,
            lifecycle.after_queue_change,
            notes.enqueue_notification,
            notes.give_up_notification,
        ],
    ):
        ticket = await create(env.client, new)
        await delivered(env.client, notification_workflow_id(new.reference, MSG_CREATED))
        await eventually(
            lambda: _has(ticket, "START_CHILD_WORKFLOW_EXECUTION_FAILED", 1),
            what="the workflow's own start refused (the message runs already)",
        )
        # It goes on: still waiting, or already expired when the test server skipped its
        # clock to the day's end (it does now and then while the test waits), not failed.
        assert (await ticket.query(TicketWorkflow.state)).status in ("WAITING", "EXPIRED")
        assert (await events(ticket))["WORKFLOW_TASK_FAILED"] == 0
        if (await ticket.describe()).status == WorkflowExecutionStatus.RUNNING:
            await ticket.terminate("test over")  # its expiry would wait for the day's end
    await publisher.close()
