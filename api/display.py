"""The public display feed: what a waiting-room screen shows, and nothing more.

A display event is built field by field from the internal ticket event (an
allow-list, so a field added upstream never leaks): the ticket's number, its
queue and desk, the event type, the time and the tickets waiting per queue.
Never a reference, national id, name or chat id; the SSE id is a counter of
the stream, not an event or ticket id.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.display import waiting_counts

log = logging.getLogger("ticketero.api.display")
#: Branches whose last counts are kept (a display's branch name comes from a URL).
MAX_CACHED_BRANCHES = 256


def display_event(raw: dict[str, Any], waiting: dict[str, int] | None) -> dict[str, Any]:
    """The screen's view of one ticket event."""
    desk = raw.get("desk")
    event: dict[str, Any] = {
        "type": str(raw.get("action", ""))[:16],
        "number": str(raw.get("number", ""))[:16],
        "queue": str(raw.get("queue", ""))[:32],
        "desk": desk if isinstance(desk, int) and not isinstance(desk, bool) else None,
        "at": str(raw.get("at", ""))[:40],
    }
    if waiting is not None:
        event["waiting"] = waiting
    return event


class WaitingCounts:
    """Tickets waiting per queue, read once per ticket event and branch for every screen
    of that branch (many displays, one query)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._last: dict[str, tuple[object, dict[str, int]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def now(self, branch: str) -> dict[str, int] | None:
        """Fresh counts (a screen connecting), or None while the database is away."""
        try:
            async with self._engine.connect() as conn:
                return await waiting_counts(conn, branch)
        except (SQLAlchemyError, OSError) as err:
            log.warning("waiting counts unavailable: %s", type(err).__name__)
            return None

    async def after(self, branch: str, event: dict[str, Any]) -> dict[str, int] | None:
        """Counts right after `event`; screens of the branch share one read per event."""
        key = branch.lower()
        marker = (event.get("eventId"), event.get("action"), event.get("at"))
        lock = self._locks.get(key)
        if lock is None:
            if len(self._locks) >= MAX_CACHED_BRANCHES:
                self._locks.clear()
                self._last.clear()
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            cached = self._last.get(key)
            if cached is not None and cached[0] == marker:
                return cached[1]
            counts = await self.now(branch)
            if counts is not None:
                self._last[key] = (marker, counts)
            return counts
