"""The global limiter grants waiting urgent sends first (virtual time)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bridge.limiter import GlobalLimiter, SendLimiter
from tests.notifications.fakes import FakeClock


def limiter(clock: FakeClock, rate: float = 5.0) -> SendLimiter:
    return SendLimiter(GlobalLimiter(rate, clock=clock, sleep=clock.sleep), 1.0, clock=clock,
                       sleep=clock.sleep)  # fmt: skip


async def send(
    lim: SendLimiter, clock: FakeClock, chat: int, log: list[int], *, urgent: bool = False,
    after: float = 0.0,
) -> None:  # fmt: skip
    if after:
        await clock.sleep(after)
    async with lim.slot(chat, urgent=urgent):
        log.append(chat)


async def test_an_urgent_send_takes_the_next_slot_before_waiting_ones() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    log: list[int] = []
    normal = [send(lim, clock, chat, log) for chat in range(20)]
    await clock.run(*normal, send(lim, clock, 999, log, urgent=True, after=0.5))
    # At 5/s, by 0.5 s three sends went (0, 0.2, 0.4); the head of the line was
    # already sleeping for 0.6 s, the call takes the very next slot after it or that one.
    assert log.index(999) <= 4
    assert sorted(log) == sorted([*range(20), 999])


async def test_urgent_sends_keep_their_own_order_and_the_rate() -> None:
    clock = FakeClock()
    lim = limiter(clock, rate=10.0)
    log: list[int] = []
    times: list[float] = []

    async def timed(chat: int, urgent: bool) -> None:
        async with lim.slot(chat, urgent=urgent):
            log.append(chat)
            times.append(clock.now)

    await clock.run(*(timed(c, False) for c in range(5)), *(timed(100 + c, True) for c in range(3)))
    assert log[:4] == [0, 100, 101, 102]  # the first went at once, then the urgent ones in order
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(0.1)


async def test_a_cancelled_waiter_leaves_the_line() -> None:
    clock = FakeClock()
    glob = GlobalLimiter(5.0, clock=clock, sleep=clock.sleep)
    await glob.acquire()
    head, middle, tail = (asyncio.create_task(glob.acquire()) for _ in range(3))
    for _ in range(5):
        await asyncio.sleep(0)
    assert glob.waiting == 3
    middle.cancel()

    async def finish() -> None:
        await asyncio.gather(head, tail)

    await clock.run(finish())
    assert middle.cancelled() and glob.waiting == 0
    assert clock.now == pytest.approx(0.4)  # the tail took the middle's slot


async def test_a_call_lifts_what_waits_ahead_of_it_in_its_own_chat() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    log: list[int] = []
    times: dict[int, float] = {}

    async def timed(chat: int, key: int, urgent: bool = False, after: float = 0.0) -> None:
        if after:
            await clock.sleep(after)
        async with lim.slot(chat, urgent=urgent):
            log.append(key)
            times[key] = clock.now

    normal = [timed(chat, chat) for chat in range(20)]
    # Chat 15's "created" is 16th in line (3 s at 5/s); its call comes at 0.1 s.
    await clock.run(*normal, timed(15, 999, urgent=True, after=0.1))
    assert times[15] < 0.5  # lifted to the front with the call behind it
    assert times[15] < times[999] < 1.5  # then the chat's 1 s spacing, then the call
    assert sorted(log) == sorted([*range(20), 999])
