"""A small in-process cache of database answers for a few seconds, with one lookup per key
in flight: under a burst, requests arriving while a key is being looked up wait for that
lookup instead of each taking a database connection (a TTL alone does not prevent that
stampede, and a slow database makes it worse exactly when it hurts).

Bounded in time (`ttl` seconds per entry) and size (`max_entries`); `forget()` drops the
entries, the lookups in flight (later callers start a new one) and the answers those
lookups would store, so a change made through this process is seen at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ShortCache(Generic[K, V]):
    def __init__(self, ttl: float, max_entries: int, *, keep_none: bool) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.keep_none = keep_none  # False: a miss (None) is looked up again every time
        self._entries: dict[K, tuple[float, V | None]] = {}
        self._pending: dict[K, asyncio.Future[V | None]] = {}
        self._generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def cached(self, key: K) -> tuple[bool, V | None]:
        """(True, value) when `key` was stored less than `ttl` seconds ago."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry[0] <= time.monotonic():
            self._entries.pop(key, None)
            return False, None
        return True, entry[1]

    def remember(self, key: K, value: V | None, since: int) -> None:
        """Keep `value` unless `forget()` was called after generation `since` was read."""
        if since != self._generation or (value is None and not self.keep_none):
            return
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            for old in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                del self._entries[old]
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[key] = (now + self.ttl, value)

    def generation(self) -> int:
        return self._generation

    def forget(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._pending.clear()

    async def get(self, key: K, fetch: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached value, or the answer of the one `fetch()` in flight for `key`."""
        hit, value = self.cached(key)
        if hit:
            return value
        pending = self._pending.get(key)
        # A lookup left by another event loop (a test's app, closed mid-lookup) is not awaited.
        if pending is None or pending.get_loop() is not asyncio.get_running_loop():
            pending = asyncio.ensure_future(fetch())
            self._pending[key] = pending
            pending.add_done_callback(self._settled(key, self._generation))
        # Shielded: a caller giving up does not cancel the lookup the others wait for.
        return await asyncio.shield(pending)

    def _settled(self, key: K, since: int) -> Callable[[asyncio.Future[V | None]], None]:
        def settled(done: asyncio.Future[V | None]) -> None:
            if self._pending.get(key) is done:
                del self._pending[key]
            if done.cancelled() or done.exception() is not None:
                return  # an error is every waiter's answer, and is not kept
            self.remember(key, done.result(), since)

        return settled
