"""One message to one chat, with the inline retries that are cheap to do here.

A 429 pauses the shared limiter for `retry_after` (capped) and retries the same
message up to three times; a 5xx, timeout or unreachable Telegram gets two
quick retries. What still fails is handed back: the notification workflow owns
the long retry schedule (30/60/120 s), and a 4xx other than 429 is final.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from bridge.limiter import SendLimiter, Sleep
from messaging.telegram import (
    RATE_LIMITED,
    Failure,
    Permanent,
    RetryLater,
    SendResult,
    Sent,
)

QUICK_RETRIES = (0.5, 1.0)
RATE_LIMIT_RETRIES = 3
MAX_PAUSE_SECONDS = 60.0

OnFailure = Callable[[Failure], Awaitable[None]]


class MessageSender(Protocol):
    async def send_message(self, chat_id: int, text: str, parse_mode: str = ...) -> SendResult: ...


class Deliverer:
    """Sends through the shared limiter; every failed attempt is passed to `on_failure`."""

    def __init__(
        self,
        telegram: MessageSender,
        limiter: SendLimiter,
        *,
        quick_retries: tuple[float, ...] = QUICK_RETRIES,
        rate_limit_retries: int = RATE_LIMIT_RETRIES,
        max_pause: float = MAX_PAUSE_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._telegram = telegram
        self._limiter = limiter
        self._quick = quick_retries
        self._rate_limit_retries = rate_limit_retries
        self._max_pause = max_pause
        self._sleep = sleep

    async def deliver(
        self,
        chat_id: int,
        text: str,
        parse_mode: str = "HTML",
        on_failure: OnFailure | None = None,
        *,
        urgent: bool = False,
    ) -> SendResult:
        quick = limited = 0
        while True:
            async with self._limiter.slot(chat_id, urgent=urgent):
                result = await self._telegram.send_message(chat_id, text, parse_mode)
                if isinstance(result, RetryLater) and result.reason == RATE_LIMITED:
                    self._limiter.pause(min(result.retry_after or 1.0, self._max_pause))
            if isinstance(result, Sent):
                return result
            if on_failure is not None:
                await on_failure(result)
            if isinstance(result, Permanent):
                return result
            if result.reason == RATE_LIMITED:
                if limited >= self._rate_limit_retries:
                    return result
                limited += 1  # the limiter's pause is the wait
                continue
            if quick >= len(self._quick):
                return result
            await self._sleep(self._quick[quick])
            quick += 1
