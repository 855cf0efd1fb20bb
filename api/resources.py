"""Process-wide clients of the API, created in the lifespan (after any fork).

Every dependency call on a request path is bounded, so a missing PostgreSQL, RabbitMQ
or Temporal is a 503 with Retry-After within a few seconds (api.errors), not a hang:
`DB_TIMEOUTS` for the pool, `TEMPORAL_RETRY` for Temporal's RPCs (its client retries
an unreachable server for at most that long), and a single shared connect attempt;
api.services.health turns away the requests that would wait on a component seen DOWN.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig

from activities.publisher import Publisher
from db.engine import DbTimeouts
from settings import Settings

log = logging.getLogger("ticketero.api.resources")
#: Pool checkout, connect and statement bounds of the API's database pool (seconds). A
#: statement past its bound costs one more connect (asyncpg sends the cancel on a new one).
DB_TIMEOUTS = DbTimeouts(checkout=3.0, connect=2.0, statement=3.0)
#: Temporal RPCs retry an unavailable server for at most 5 s (the SDK's default is 10 s)
#: before the API answers 503; requests arriving once the health probes have seen it DOWN
#: get their 503 at once (api.services.health.require).
TEMPORAL_RETRY = RetryConfig(max_elapsed_time_millis=5000)
TEMPORAL_CONNECT_SECONDS = 3.0
#: After a failed connect, callers within this many seconds get the same answer at once.
TEMPORAL_RECONNECT_SECONDS = 1.0


class TemporalUnavailable(Exception):
    """Temporal could not be reached; the API answers 503 with Retry-After (api.errors)."""


@dataclass
class TemporalHolder:
    """Connects on first use, so the API starts (and reports DOWN) while Temporal is away.

    One connect attempt at a time is shared by every caller (concurrent requests do not
    queue behind one another's timeouts), and a failure is remembered briefly.
    """

    settings: Settings
    _client: Client | None = None
    _attempt: asyncio.Task[Client] | None = None
    _failed_at: float = float("-inf")

    async def get(self) -> Client:
        if self._client is not None:
            return self._client
        if time.monotonic() - self._failed_at < TEMPORAL_RECONNECT_SECONDS:
            raise TemporalUnavailable("recently unreachable")
        if self._attempt is None or self._attempt.done():
            self._attempt = asyncio.create_task(self._connect())
        try:
            self._client = await asyncio.shield(self._attempt)
        except (OSError, RuntimeError, TimeoutError) as err:
            self._failed_at = time.monotonic()
            raise TemporalUnavailable(type(err).__name__) from err
        return self._client

    async def _connect(self) -> Client:
        async with asyncio.timeout(TEMPORAL_CONNECT_SECONDS):
            return await Client.connect(
                self.settings.temporal_address,
                namespace=self.settings.temporal_namespace,
                data_converter=pydantic_data_converter,
                retry_config=TEMPORAL_RETRY,
            )


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    temporal: TemporalHolder
    #: The health probes' own connections (db.engine.make_engine(probe=True)).
    probe_engine: AsyncEngine | None = None
    #: Live events of tickets the API itself created (best effort, see Publisher).
    publisher: Publisher | None = None
    #: Per-process helpers of the services, created on first use.
    extras: dict[str, Any] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the response; it must handle its own errors (it is logged and
        dropped otherwise). Held here so the event loop does not lose it half-way."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("background work failed: %r", task.exception())

    async def drain(self, seconds: float = 5.0) -> None:
        """Let pending background work finish (at shutdown), for at most `seconds`."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=seconds)
