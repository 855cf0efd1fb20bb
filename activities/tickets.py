"""Ticket activities: the database read model of each ticket, written idempotently."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from db import tickets as store
from workflows.contracts import (
    CREATE_TICKET,
    CreateOutcome,
    NewTicket,
)


class TicketActivities:
    """Holds the process's engine; methods are registered on the worker."""

    def __init__(self, engine: AsyncEngine, default_time_zone: str) -> None:
        self._engine = engine
        self._tz = default_time_zone

    @activity.defn(name=CREATE_TICKET)
    async def create_ticket(self, new: NewTicket) -> CreateOutcome:
        """Allocate the number and insert the ticket, or report the active ticket blocking it."""
        return await store.create_ticket(self._engine, new, self._tz)
