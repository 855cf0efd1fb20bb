"""Telegram's flood limits, enforced before each sendMessage: per bot and per chat.

Telegram allows about 30 messages/s per bot and about one per second to one
chat; exceeding either earns 429s for everyone. Notifications and bot replies
share one `SendLimiter`, so together they stay under both. Waiting is a
computed sleep (no polling); the clock and sleep are injectable for tests.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

GLOBAL_RATE = 30.0
CHAT_SPACING = 1.0


class GlobalLimiter:
    """Virtual scheduling (GCRA): sends are at least `1/rate` apart.

    `burst` slots may be used back to back after an idle period; `pause` holds
    every send until a 429's `retry_after` has passed. Waiting sends are granted
    in priority order, then arrival order: near the limit an urgent message
    ("your turn", a recall) takes the next slot instead of queueing behind
    every message already waiting.
    """

    def __init__(
        self,
        rate: float = GLOBAL_RATE,
        burst: int = 1,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / rate
        self._tolerance = self._interval * (max(burst, 1) - 1)
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0  # theoretical arrival time of the next send
        self._paused_until = 0.0
        self._waiting: list[Place] = []  # a heap: the head is the next to send
        self._seq = itertools.count()

    def pause(self, seconds: float) -> None:
        """No send before `seconds` from now (a longer pause already set wins)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _free_at(self) -> float:
        return max(self._next - self._tolerance, self._paused_until)

    def _take(self, now: float) -> None:
        self._next = max(self._next, now) + self._interval

    def place(self, urgent: bool = False) -> Place:
        """A place in the waiting line, to pass to `acquire` (and `promote` later)."""
        return Place(0 if urgent else 1, next(self._seq))

    def promote(self, place: Place) -> None:
        """Make a waiting send urgent (an urgent send to its chat waits behind it)."""
        if place.priority == 0:
            return
        place.priority = 0
        if any(waiter is place for waiter in self._waiting):
            heapq.heapify(self._waiting)
            self._waiting[0].wake.set()

    async def acquire(self, urgent: bool = False, *, place: Place | None = None) -> None:
        """Wait for a slot; only the head of the waiting line sleeps for it, and it looks
        again when it wakes (an urgent send or a pause may have come meanwhile)."""
        now = self._clock()
        if not self._waiting and self._free_at() <= now:
            self._take(now)
            return
        me = place or self.place(urgent)
        heapq.heappush(self._waiting, me)
        try:
            while True:
                if self._waiting[0] is not me:
                    await me.wake.wait()
                    me.wake.clear()
                    continue
                now = self._clock()
                free = self._free_at()
                if free <= now:
                    self._take(now)
                    return
                await self._sleep(free - now)
        finally:
            self._leave(me)

    def _leave(self, me: Place) -> None:
        if self._waiting and self._waiting[0] is me:
            heapq.heappop(self._waiting)
        else:  # cancelled while not at the head
            self._waiting.remove(me)
            heapq.heapify(self._waiting)
        if self._waiting:
            self._waiting[0].wake.set()


@dataclass(order=True)
class Place:
    """One send waiting for the global rate: urgent (0) first, then by arrival."""

    priority: int
    seq: int
    wake: asyncio.Event = field(default_factory=asyncio.Event, compare=False)


@dataclass
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float | None = None
    users: int = 0
    #: Urgent sends waiting for this chat's lock.
    urgent: int = 0
    #: The lock holder's place while it waits for the global rate.
    place: Place | None = None


class SendLimiter:
    """A slot for one send to one chat: chat spacing first, then the global rate.

    Sends to one chat are serialised (FIFO), which also keeps their order.
    """

    def __init__(
        self,
        global_limiter: GlobalLimiter | None = None,
        chat_spacing: float = CHAT_SPACING,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.global_limiter = global_limiter or GlobalLimiter(clock=clock, sleep=sleep)
        self._spacing = chat_spacing
        self._clock = clock
        self._sleep = sleep
        self._chats: dict[int, _Chat] = {}

    def pause(self, seconds: float) -> None:
        self.global_limiter.pause(seconds)

    @asynccontextmanager
    async def slot(self, chat_id: int, *, urgent: bool = False) -> AsyncIterator[None]:
        """Held for the whole HTTP call; the next send to the chat starts ≥ spacing later.

        `urgent` goes before non-urgent sends waiting for the global rate (not before
        earlier sends to the same chat)."""
        chat = self._chats.setdefault(chat_id, _Chat())
        chat.users += 1
        queued = urgent
        if urgent:
            chat.urgent += 1
            if chat.place is not None:
                # Priority inheritance: what is ahead of a call in its own chat goes
                # urgent too, or the call would wait behind every other chat's sends.
                self.global_limiter.promote(chat.place)
        try:
            async with chat.lock:
                if queued:
                    chat.urgent -= 1
                    queued = False
                if chat.last is not None:
                    wait = chat.last + self._spacing - self._clock()
                    if wait > 0:
                        await self._sleep(wait)
                chat.place = self.global_limiter.place(urgent or chat.urgent > 0)
                try:
                    await self.global_limiter.acquire(place=chat.place)
                finally:
                    chat.place = None
                chat.last = self._clock()
                yield
        finally:
            if queued:
                chat.urgent -= 1
            chat.users -= 1
            self._forget_idle()

    def _forget_idle(self) -> None:
        """Drop chats nobody waits for whose spacing has passed (bounded memory)."""
        horizon = self._clock() - self._spacing
        idle = [
            key
            for key, chat in self._chats.items()
            if chat.users == 0 and (chat.last is None or chat.last <= horizon)
        ]
        for key in idle:
            del self._chats[key]

    @property
    def tracked_chats(self) -> int:
        return len(self._chats)
