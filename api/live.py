"""Fans live ticket events from RabbitMQ out to this process's SSE subscribers, per branch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from messaging.live import declare_live_queue
from messaging.topology import declare_exchange

log = logging.getLogger("ticketero.api.live")
#: Events kept per slow subscriber before the oldest are dropped.
BACKLOG = 256
#: Seconds between reconnection attempts while the broker is away (streams answer 503).
RECONNECT_SECONDS = 1


class LiveHub:
    """One broker subscription per API process, shared by all its SSE clients."""

    def __init__(self, url: str, exchange: str) -> None:
        self._url = url
        self._exchange = exchange
        self._connection: AbstractRobustConnection | None = None
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        async with self._lock:
            if self._connection is not None:
                return
            self._connection = await aio_pika.connect_robust(
                self._url, timeout=5, reconnect_interval=RECONNECT_SECONDS
            )
            channel = await self._connection.channel()
            exchange = await declare_exchange(channel, self._exchange)
            queue = await declare_live_queue(channel, exchange)
            await queue.consume(self._on_message, no_ack=True)

    async def ready(self, timeout: float) -> None:  # noqa: ASYNC109 - the caller's bound
        """Connected to the broker within `timeout`, else TimeoutError: a new stream would
        otherwise hang silently while the robust connection reconnects."""
        async with asyncio.timeout(timeout):
            await self.connect()
            if self._connection is not None:
                await self._connection.connected.wait()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            event: dict[str, Any] = json.loads(message.body)
        except ValueError:
            return
        for queue in self._subscribers.get(str(event.get("branch", "")).lower(), ()):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscription(self, branch: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue receiving the events of one branch, as they happen, while inside.

        A plain queue rather than an async generator: a stream cancelled when its client
        disconnects leaves no generator half-running (no "aclose(): already running").
        """
        await self.connect()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(BACKLOG)
        key = branch.lower()
        self._subscribers[key].add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(key)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[key]

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
