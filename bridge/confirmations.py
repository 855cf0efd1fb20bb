"""Cancellations waiting for the customer's /confirmar, in PostgreSQL with an expiry.

In the database (not one bridge's memory) so that /cancelar and /confirmar may
reach different bridge replicas, and a bridge restart forgets nothing. Taking
a confirmation deletes it in the same statement, so two concurrent /confirmar
use it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from db import confirmations as store
from db.confirmations import PendingCancel

CONFIRM_WITHIN_SECONDS = 300.0

__all__ = ["CONFIRM_WITHIN_SECONDS", "Confirmations", "PendingCancel"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Confirmations:
    def __init__(
        self,
        engine: AsyncEngine,
        ttl: float = CONFIRM_WITHIN_SECONDS,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.ttl = ttl
        self._engine = engine
        self._clock = clock

    async def ask(self, chat_id: int, reference: uuid.UUID, number: str, language: str) -> None:
        """Remember the request (a newer one replaces it) and forget expired ones."""
        now = self._clock()
        expires = now + timedelta(seconds=self.ttl)
        await store.ask(
            self._engine, chat_id, PendingCancel(reference, number, language, expires), now
        )

    async def take(self, chat_id: int) -> PendingCancel | None:
        """The chat's pending cancellation if still valid; it is consumed either way."""
        pending = await store.take(self._engine, chat_id)
        if pending is None or pending.expires_at <= self._clock():
            return None
        return pending
