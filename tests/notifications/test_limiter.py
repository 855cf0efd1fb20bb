"""The send limiter under virtual time: global rate, per-chat spacing, 429 pauses."""

from __future__ import annotations

import itertools
import time

import pytest

from bridge.limiter import GlobalLimiter, SendLimiter
from tests.notifications.fakes import FakeClock


def limiter(clock: FakeClock, *, burst: int = 1) -> SendLimiter:
    glob = GlobalLimiter(30.0, burst, clock=clock, sleep=clock.sleep)
    return SendLimiter(glob, 1.0, clock=clock, sleep=clock.sleep)


async def send(lim: SendLimiter, clock: FakeClock, chat: int, log: list[tuple[int, float]]) -> None:
    async with lim.slot(chat):
        log.append((chat, clock.now))


async def test_global_rate_spaces_sends_to_different_chats() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    log: list[tuple[int, float]] = []
    started = time.monotonic()
    await clock.run(*(send(lim, clock, chat, log) for chat in range(90)))
    times = sorted(t for _, t in log)
    assert len(times) == 90
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(1 / 30)
    assert times[-1] == pytest.approx(89 / 30)  # 30 per second, no faster, no slower
    assert time.monotonic() - started < 2, "virtual time: nothing really slept"


async def test_one_chat_gets_at_most_one_message_per_second_in_order() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    log: list[tuple[int, float]] = []
    await clock.run(
        send(lim, clock, 1, log), send(lim, clock, 1, log), send(lim, clock, 2, log),
        send(lim, clock, 1, log),
    )  # fmt: skip
    chat1 = [t for chat, t in log if chat == 1]
    chat2 = [t for chat, t in log if chat == 2]
    assert chat1 == pytest.approx([0.0, 1.0, 2.0])
    assert chat2 == pytest.approx([1 / 30])  # another chat is not held up by chat 1


async def test_pause_holds_every_send_until_retry_after() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    log: list[tuple[int, float]] = []
    await clock.run(send(lim, clock, 1, log))
    lim.pause(2.0)
    await clock.run(send(lim, clock, 2, log), send(lim, clock, 3, log))
    assert [t for _, t in log] == pytest.approx([0.0, 2.0, 2.0 + 1 / 30])
    assert lim.global_limiter.paused_for == 0.0


async def test_a_pause_set_while_waiting_pushes_the_waiter_back() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    log: list[tuple[int, float]] = []

    async def pause_later() -> None:
        await clock.sleep(0.01)
        lim.pause(5.0)

    await clock.run(
        send(lim, clock, 1, log), send(lim, clock, 2, log), send(lim, clock, 3, log), pause_later()
    )
    times = sorted(t for _, t in log)
    assert times[0] == 0.0
    assert all(t >= 5.01 for t in times[1:])


async def test_a_shorter_pause_does_not_cut_a_longer_one() -> None:
    clock = FakeClock()
    glob = GlobalLimiter(clock=clock, sleep=clock.sleep)
    glob.pause(10)
    glob.pause(1)
    assert glob.paused_for == 10


async def test_burst_allows_back_to_back_sends_after_idle() -> None:
    clock = FakeClock()
    lim = limiter(clock, burst=5)
    log: list[tuple[int, float]] = []
    await clock.run(*(send(lim, clock, chat, log) for chat in range(7)))
    times = sorted(t for _, t in log)
    assert times[:5] == [0.0] * 5
    assert times[5] == pytest.approx(1 / 30) and times[6] == pytest.approx(2 / 30)


async def test_idle_chats_are_forgotten() -> None:
    clock = FakeClock()
    lim = limiter(clock)
    log: list[tuple[int, float]] = []
    await clock.run(*(send(lim, clock, chat, log) for chat in range(50)))
    clock.now += 5
    await clock.run(send(lim, clock, 999, log))
    assert lim.tracked_chats <= 1
