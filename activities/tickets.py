"""Ticket activities: the database read model of each ticket, written idempotently."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.maintenance_mode import ensure_writable
from activities.notifications import start_notification_workflow
from activities.publisher import Publisher
from db import tickets as store
from domain.contracts import (
    CREATE_TICKET,
    MSG_CREATED,
    CreateOutcome,
    NewTicket,
    NotificationRequest,
)
from messaging.live import created_event, ticket_event_routing_key


class TicketActivities:
    """Holds the process's engine; methods are registered on the worker."""

    def __init__(
        self, engine: AsyncEngine, default_time_zone: str, publisher: Publisher | None = None
    ) -> None:
        self._engine = engine
        self._tz = default_time_zone
        self._publisher = publisher

    @activity.defn(name=CREATE_TICKET)
    async def create_ticket(self, new: NewTicket) -> CreateOutcome:
        """Allocate the number and insert the ticket, or report the active ticket blocking it.

        A ticket given a chat also gets its "created" message started here, right after the
        commit: the ticket workflow then needs no child workflow (and none of the workflow
        tasks a child's start and end cost it), and the message leaves sooner.
        """
        await ensure_writable(self._engine)
        outcome = await store.create_ticket(self._engine, new, self._tz)
        ticket = outcome.ticket
        if ticket is not None and new.telegram_chat_id is not None:
            outcome.created_message_started = await start_notification_workflow(
                NotificationRequest(
                    ticket_reference=new.reference,
                    kind=MSG_CREATED,
                    chat_id=new.telegram_chat_id,
                    language=new.language,
                )
            )
        if ticket is not None and self._publisher is not None and outcome.branch_id is not None:
            await self._publisher.publish_event(
                ticket_event_routing_key(outcome.branch_id, "CREATE"), created_event(ticket)
            )
        return outcome
