"""getUpdates long polling: the default way the bot hears its customers.

Each batch is handled before the next call, whose `offset` confirms it to
Telegram; so an update is handled again only if the bridge dies mid-batch.
Telegram errors (including 409 while another poller or a webhook is active)
back off and retry, never end the loop. On stop, a last zero-timeout call
confirms what was handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from messaging.telegram import BotApiError, TelegramClient

log = logging.getLogger("ticketero.bridge")
POLL_SECONDS = 20
BATCH = 100
BACKOFF_MAX = 30.0


class Poller:
    def __init__(
        self,
        telegram: TelegramClient,
        handle: Callable[[Mapping[str, Any]], Awaitable[None]],
        *,
        request_timeout: float,
        poll_seconds: int = POLL_SECONDS,
    ) -> None:
        self._telegram = telegram
        self._handle = handle
        self._poll = poll_seconds
        self._timeout = request_timeout
        self._offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._batch: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram-poller")

    async def stop(self, grace: float = 5.0) -> None:
        """Let a batch being handled finish (bounded), abandon the long poll (nothing is
        lost: unconfirmed updates come again) and confirm what was handled."""
        if self._task is None:
            return
        if self._batch is not None and not self._batch.done():
            await asyncio.wait({self._batch}, timeout=grace)
        for task in (self._task, self._batch):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = None
        if self._offset is not None:
            with contextlib.suppress(BotApiError):
                await self._telegram.call(
                    "getUpdates", {"offset": self._offset, "limit": 1, "timeout": 0}, seconds=1.0
                )

    async def _run(self) -> None:
        await self._until_done(lambda: self._telegram.call("deleteWebhook", {}), "deleteWebhook")
        delay = 0.5
        while True:
            try:
                updates = await self._telegram.call(
                    "getUpdates",
                    {"offset": self._offset, "timeout": self._poll, "limit": BATCH},
                    seconds=self._poll + self._timeout,
                )
            except BotApiError as err:
                wait = max(delay, err.retry_after or 0.0)
                log.warning("getUpdates failed (%s); again in %.1fs", err.reason, wait)
                await asyncio.sleep(wait)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            delay = 0.5
            batch = [u for u in updates if isinstance(u, dict)] if isinstance(updates, list) else []
            if batch:
                self._batch = asyncio.create_task(self._handle_batch(batch))
                await asyncio.shield(self._batch)

    async def _handle_batch(self, batch: list[dict[str, Any]]) -> None:
        # Started in order: the per-chat locks keep each chat's updates in order.
        results = await asyncio.gather(*(self._handle(u) for u in batch), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.warning("update failed: %s", type(result).__name__)
        ids = [u["update_id"] for u in batch if isinstance(u.get("update_id"), int)]
        if ids:
            self._offset = max(ids) + 1

    async def _until_done(self, op: Callable[[], Awaitable[Any]], what: str) -> None:
        delay = 0.5
        while True:
            try:
                await op()
                return
            except BotApiError as err:
                log.warning("%s failed (%s); again in %.1fs", what, err.reason, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)
