"""Cancellations waiting for the customer's /confirmar, kept in memory with an expiry.

In memory because it is cheap and a confirmation is short-lived: a bridge
restart forgets pending ones (the customer sends /cancelar again), and with
several bridge replicas the two commands could reach different replicas, so
run one bridge (Telegram delivers a bot's updates to one consumer anyway).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

CONFIRM_WITHIN_SECONDS = 300.0


@dataclass(frozen=True)
class PendingCancel:
    reference: uuid.UUID
    number: str
    language: str
    expires_at: float


class Confirmations:
    def __init__(
        self, ttl: float = CONFIRM_WITHIN_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._pending: dict[int, PendingCancel] = {}

    def ask(self, chat_id: int, reference: uuid.UUID, number: str, language: str) -> None:
        """Remember the request (a newer one replaces it) and forget expired ones."""
        now = self._clock()
        self._pending = {k: v for k, v in self._pending.items() if v.expires_at > now}
        self._pending[chat_id] = PendingCancel(reference, number, language, now + self.ttl)

    def take(self, chat_id: int) -> PendingCancel | None:
        """The chat's pending cancellation if still valid; it is consumed either way."""
        pending = self._pending.pop(chat_id, None)
        if pending is None or pending.expires_at <= self._clock():
            return None
        return pending
