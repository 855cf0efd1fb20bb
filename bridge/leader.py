"""Polling by one elected bridge: the holder of a PostgreSQL advisory lock polls Telegram.

Telegram gives a bot's updates to one getUpdates caller at a time (the others get
409 and the same updates again), so with several bridges only the one holding the
session-level lock `ticketero.telegram.poller`, on a connection of its own, polls;
the others try again every second. When the leader dies its session ends, the
lock is free, and a standby takes over within about a second; the new poller
starts from Telegram's unconfirmed updates, and `bot_update` drops any the dead
leader had already taken. A leader that cannot reach its session for a few
seconds stops polling (another bridge may hold the lock by then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.polling import Poller
from db.advisory import lock_key, still_held, try_lock, unlock

log = logging.getLogger("ticketero.bridge")
POLLER_LOCK = lock_key("ticketero.telegram.poller")
RETRY_SECONDS = 1.0
CHECK_SECONDS = 1.0


class PollingLeader:
    """Runs a `Poller` only while this process holds the poller lock."""

    def __init__(
        self,
        engine: AsyncEngine,
        make_poller: Callable[[], Poller],
        *,
        retry_seconds: float = RETRY_SECONDS,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self._engine = engine  # a NullPool engine: the lock's connection is never pooled
        self._make_poller = make_poller
        self._retry = retry_seconds
        self._check = check_seconds
        self._task: asyncio.Task[None] | None = None
        self._poller: Poller | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="polling-leader")

    async def stop(self, grace: float) -> None:
        """Stop polling (confirming what was handled), then give up the lock."""
        if self._poller is not None:
            await self._poller.stop(grace=grace)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._lead_when_elected()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("polling lock session lost (%s); again shortly", type(err).__name__)
            await asyncio.sleep(self._retry)

    async def _lead_when_elected(self) -> None:
        conn = await self._engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            standby = False
            while not await try_lock(conn, POLLER_LOCK):
                if not standby:
                    log.info("standby: another bridge polls Telegram updates")
                    standby = True
                await asyncio.sleep(self._retry)
            log.info("polling Telegram updates as the elected bridge")
            self._poller = self._make_poller()
            self._poller.start()
            try:
                while True:
                    await asyncio.sleep(self._check)
                    check = still_held(conn, POLLER_LOCK)
                    if not await asyncio.wait_for(check, timeout=3 * self._check):
                        raise RuntimeError("poller lock no longer held")
            finally:
                poller, self._poller = self._poller, None
                await poller.stop(grace=1.0)
                log.info("stopped polling Telegram updates")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(unlock(conn, POLLER_LOCK), timeout=1.0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=1.0)
