"""Virtual time for unit tests: `sleep` parks a task until the test advances the clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class FakeClock:
    """A monotonic clock and matching sleep; `run` jumps from one wake-up to the next."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._seq), future))
        await future

    async def run(self, *coros: Coroutine[Any, Any, T]) -> list[T]:
        """Run the coroutines to completion in virtual time (no real waiting)."""
        tasks = [asyncio.create_task(c) for c in coros]
        while True:
            for _ in range(50):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            if not self._sleepers:
                raise AssertionError("deadlock: tasks wait but nobody sleeps")
            when, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            future.set_result(None)
