"""The ticket limits' moving windows (api.moving_windows), on a controlled clock: the
same admissions and Retry-After as the `limits` package's moving window, and memory
given back for keys gone idle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api import moving_windows
from api.moving_windows import MovingWindows, Window


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(moving_windows.time, "monotonic", fake)
    yield fake


def test_a_full_window_refuses_until_its_oldest_hit_leaves(clock: Clock) -> None:
    windows, per_minute = MovingWindows(), [Window(3, 60.0)]
    for _ in range(3):
        assert windows.hit(per_minute, "a") == 0
        clock.now += 10

    assert windows.hit(per_minute, "a") == pytest.approx(30.0)  # oldest at -30 s
    assert windows.hit(per_minute, "b") == 0  # another key has its own window
    clock.now += 30
    assert windows.hit(per_minute, "a") == 0
    assert windows.hit(per_minute, "a") == pytest.approx(10.0)


def test_a_refused_hit_is_not_counted_and_every_window_must_admit(clock: Clock) -> None:
    windows = MovingWindows()
    both = [Window(2, 10.0), Window(3, 100.0)]
    assert windows.hit(both, "k") == 0
    assert windows.hit(both, "k") == 0
    assert windows.hit(both, "k") == pytest.approx(10.0)  # the short window is full
    clock.now += 10
    assert windows.hit(both, "k") == 0  # the refused hit did not count in the long one
    assert windows.hit(both, "k") == pytest.approx(90.0)  # the long window is full


def test_a_zero_window_always_refuses(clock: Clock) -> None:
    assert MovingWindows().hit([Window(0, 60.0)], "k") == pytest.approx(60.0)


def test_idle_keys_are_dropped(clock: Clock) -> None:
    windows, per_minute = MovingWindows(), [Window(5, 60.0)]
    for n in range(100):
        windows.hit(per_minute, f"client {n}")
    assert len(windows) == 100

    clock.now += moving_windows.SWEEP_SECONDS + 1
    windows.hit(per_minute, "late")

    assert len(windows) == 1
