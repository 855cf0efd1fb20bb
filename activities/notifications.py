"""Notification activities: record the message, then hand it to the broker."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from activities.maintenance_mode import ensure_writable
from activities.publisher import Publisher
from db import messages, tickets
from db.chat_languages import chat_language
from domain.contracts import (
    ENQUEUE_NOTIFICATION,
    GIVE_UP_NOTIFICATION,
    NOTIFICATION_WORKFLOW,
    SA_MESSAGE_KIND,
    SA_TICKET_REFERENCE,
    EnqueuedNotification,
    GiveUpRequest,
    NotificationRequest,
    message_key,
    notification_workflow_id,
)
from domain.states import MessageState
from messaging.messages import OutboundTelegram
from messaging.texts import estimate_kind, render

log = logging.getLogger("ticketero.activities")
#: Bounds the start call inside the create activity (10 s start-to-close): a slow Temporal
#: costs the creation at most this, and the ticket workflow starts the message instead.
START_RPC_TIMEOUT = timedelta(seconds=3)


async def start_message_workflow(
    client: Client, req: NotificationRequest, task_queue: str, *, eager: bool = False
) -> None:
    """Start a message's notification workflow with its search attributes set at start (no
    upsert in the workflow). Started already counts as done: the id is never reused, so the
    message exists once. `eager`: its first task goes to this process's worker in the
    start's answer, without a poll (only where a worker of `task_queue` runs)."""
    try:
        await client.start_workflow(
            NOTIFICATION_WORKFLOW,
            req,
            id=notification_workflow_id(req.ticket_reference, req.kind, req.sequence),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(
                        SearchAttributeKey.for_keyword(SA_TICKET_REFERENCE),
                        str(req.ticket_reference),
                    ),
                    SearchAttributePair(SearchAttributeKey.for_keyword(SA_MESSAGE_KIND), req.kind),
                ]
            ),
            request_eager_start=eager,
            rpc_timeout=START_RPC_TIMEOUT,
        )
    except WorkflowAlreadyStartedError:
        return


async def start_notification_workflow(req: NotificationRequest) -> bool:
    """Start a message's notification workflow from the running activity, on its task queue,
    eagerly. True when it runs or ran; False when Temporal could not be reached in time, and
    the caller (the ticket workflow) starts it instead.
    """
    try:
        await start_message_workflow(activity.client(), req, activity.info().task_queue, eager=True)
    except Exception:  # any failure to start: the workflow's fallback covers it
        log.warning(
            "could not start the %s message of %s here; the ticket workflow will",
            req.kind,
            req.ticket_reference,
            exc_info=True,
        )
        return False
    return True


class NotificationActivities:
    def __init__(self, engine: AsyncEngine, publisher: Publisher) -> None:
        self._engine = engine
        self._publisher = publisher

    @activity.defn(name=ENQUEUE_NOTIFICATION)
    async def enqueue_notification(self, req: NotificationRequest) -> EnqueuedNotification:
        """Write the `mensaje` row once (text frozen at first render) and publish it, confirmed."""
        await ensure_writable(self._engine)
        async with self._engine.connect() as conn:
            ticket = await tickets.get_ticket(conn, req.ticket_reference)
            # The chat's own language (its latest /start) wins over the ticket's.
            language = await chat_language(conn, req.chat_id) or req.language
        if ticket is None:
            raise ApplicationError("ticket not found", type="TicketNotFound", non_retryable=True)
        wait = ticket.estimated_wait
        body = render(
            req.kind,
            language,
            number=ticket.number,
            queue=ticket.queue,
            branch=ticket.branch_office,
            position=ticket.position or 0,
            ahead=ticket.tickets_ahead or 0,
            minutes=wait.minutes if wait else 0,
            low=wait.low if wait else 0,
            high=wait.high if wait else 0,
            estimate=estimate_kind(wait),
            status=ticket.status,
            desk=req.details.get("desk") or (str(ticket.desk) if ticket.desk else ""),
            advisor=req.details.get("advisor", ""),
            target_queue=req.details.get("queue", ticket.queue),
        )
        row = await messages.ensure_pending(
            self._engine,
            ticket_reference=req.ticket_reference,
            kind=message_key(req.kind, req.sequence),
            chat_id=req.chat_id,
            body=body,
            scheduled_at=datetime.now(UTC),
        )
        if row.state != MessageState.PENDING:
            return EnqueuedNotification(message_id=row.id, already_final=row.state)
        await self._publisher.publish_telegram(
            OutboundTelegram(
                message_id=row.id,
                kind=req.kind,
                chat_id=row.chat_id,
                text=row.text,
                ticket_reference=req.ticket_reference,
                workflow_id=notification_workflow_id(req.ticket_reference, req.kind, req.sequence),
                ticket_created_at=ticket.created_at,
                attempt=req.attempt,
            )
        )
        return EnqueuedNotification(message_id=row.id)

    @activity.defn(name=GIVE_UP_NOTIFICATION)
    async def give_up_notification(self, req: GiveUpRequest) -> bool:
        """Mark the message FAILED once retries are exhausted."""
        await ensure_writable(self._engine)
        return await messages.give_up(self._engine, req.message_id, req.kind, req.error)
