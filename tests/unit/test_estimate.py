"""Wait estimates (Erlang model) and the moving average of service times.

Long because the estimate's promises (range around the figure, never zero width while
someone is ahead, no time without advisors) each have examples and property tests."""

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.estimate import (
    MIN_SAMPLES,
    ServiceStats,
    WaitEstimate,
    estimate_wait,
    honest_wait,
    update_moving_average,
)

FIVE_MINUTES = 300.0

tickets = st.integers(min_value=0, max_value=500)
service_seconds = st.floats(min_value=0, max_value=4 * 3600, allow_nan=False)
server_counts = st.integers(min_value=0, max_value=50)


@pytest.mark.parametrize(
    ("ahead", "service", "servers", "idle", "expected"),
    [
        # One advisor, nobody ahead: one service, 5 +/- 1.28 * 5 minutes.
        (0, FIVE_MINUTES, 1, 0, WaitEstimate(5, 0, 12)),
        # Three ahead, one advisor: k = 4, mean 20, sd 10 -> 7.2..32.8 minutes.
        (3, FIVE_MINUTES, 1, 0, WaitEstimate(20, 7, 33)),
        # Same queue, two advisors: everything halves.
        (3, FIVE_MINUTES, 2, 0, WaitEstimate(10, 3, 17)),
        # One advisor idle takes the first ticket ahead: k = 3 on 2 advisors.
        (3, FIVE_MINUTES, 2, 1, WaitEstimate(8, 1, 14)),
        # As many idle advisors as tickets ahead: one departure to wait for.
        (2, FIVE_MINUTES, 2, 2, WaitEstimate(3, 0, 6)),
        # More idle advisors than tickets ahead: served at once.
        (0, FIVE_MINUTES, 1, 1, WaitEstimate(0, 0, 0)),
        (2, FIVE_MINUTES, 4, 3, WaitEstimate(0, 0, 0)),
        # No advisor serving the queue is estimated as one.
        (3, FIVE_MINUTES, 0, 0, WaitEstimate(20, 7, 33)),
        # Zero service time still gives a range a minute wide: nobody is being called.
        (10, 0.0, 1, 0, WaitEstimate(0, 0, 1)),
    ],
)
def test_estimate_wait_examples(
    ahead: int, service: float, servers: int, idle: int, expected: WaitEstimate
) -> None:
    assert estimate_wait(ahead, service, servers, idle) == expected


def test_whole_minutes_are_not_rounded_up_by_float_noise() -> None:
    # 3 * 100 / 3 seconds could come out as 100.00000000000001.
    assert estimate_wait(2, 100.0, 3).minutes == 2
    assert estimate_wait(5, 60.0, 1).minutes == 6
    assert estimate_wait(0, 0.1 + 0.2, 1).minutes == 1


def test_wider_range_for_longer_waits() -> None:
    short = estimate_wait(1, FIVE_MINUTES, 1)
    long = estimate_wait(20, FIVE_MINUTES, 1)
    assert long.high_minutes - long.low_minutes > short.high_minutes - short.low_minutes


def test_matches_the_erlang_mean_and_spread() -> None:
    ahead, service, servers = 8, 600.0, 3
    k = ahead + 1
    mean = k * service / servers / 60
    sd = math.sqrt(k) * service / servers / 60
    estimate = estimate_wait(ahead, service, servers)
    assert estimate == WaitEstimate(
        math.ceil(mean), math.floor(mean - 1.28 * sd), math.ceil(mean + 1.28 * sd)
    )


@pytest.mark.parametrize(
    ("ahead", "service", "servers", "idle"),
    [(-1, FIVE_MINUTES, 1, 0), (0, -1.0, 1, 0), (0, FIVE_MINUTES, -1, 0), (0, FIVE_MINUTES, 1, -1)],
)
def test_negative_inputs_are_rejected(ahead: int, service: float, servers: int, idle: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        estimate_wait(ahead, service, servers, idle)


@pytest.mark.parametrize("service", [math.nan, math.inf, -math.inf])
def test_non_finite_service_times_are_rejected(service: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        estimate_wait(1, service, 1)


def test_more_idle_than_serving_advisors_is_rejected() -> None:
    with pytest.raises(ValueError, match="idle_servers"):
        estimate_wait(5, FIVE_MINUTES, 1, 2)


def test_wait_estimate_is_immutable() -> None:
    estimate = estimate_wait(1, FIVE_MINUTES, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        estimate.minutes = 0  # type: ignore[misc]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, float, int, int]:
    servers = draw(server_counts)
    idle = draw(st.integers(min_value=0, max_value=servers))
    return draw(tickets), draw(service_seconds), servers, idle


@given(scenarios())
def test_range_brackets_the_point_estimate(scenario: tuple[int, float, int, int]) -> None:
    estimate = estimate_wait(*scenario)
    assert 0 <= estimate.low_minutes <= estimate.minutes <= estimate.high_minutes


@given(scenarios(), st.integers(min_value=1, max_value=50))
def test_more_tickets_ahead_never_shortens_the_wait(
    scenario: tuple[int, float, int, int], extra: int
) -> None:
    ahead, service, servers, idle = scenario
    before = estimate_wait(ahead, service, servers, idle)
    after = estimate_wait(ahead + extra, service, servers, idle)
    assert after.minutes >= before.minutes
    assert after.low_minutes >= before.low_minutes
    assert after.high_minutes >= before.high_minutes


@given(scenarios(), st.integers(min_value=1, max_value=20))
def test_more_advisors_never_lengthen_the_wait(
    scenario: tuple[int, float, int, int], extra: int
) -> None:
    ahead, service, servers, idle = scenario
    before = estimate_wait(ahead, service, servers, idle)
    after = estimate_wait(ahead, service, servers + extra, idle)
    assert after.minutes <= before.minutes
    assert after.low_minutes <= before.low_minutes
    assert after.high_minutes <= before.high_minutes


@given(scenarios(), st.floats(min_value=0, max_value=3600, allow_nan=False))
def test_slower_service_never_shortens_the_wait(
    scenario: tuple[int, float, int, int], slower_by: float
) -> None:
    ahead, service, servers, idle = scenario
    before = estimate_wait(ahead, service, servers, idle)
    after = estimate_wait(ahead, service + slower_by, servers, idle)
    assert after.minutes >= before.minutes
    assert after.high_minutes >= before.high_minutes


@given(tickets, st.floats(min_value=1, max_value=3600), st.integers(min_value=1, max_value=20))
def test_point_estimate_is_never_below_the_naive_queue_formula(
    ahead: int, service: float, servers: int
) -> None:
    # (n + 1) * S / c, the textbook figure, rounded down to whole minutes.
    naive = (ahead + 1) * service / servers / 60
    assert estimate_wait(ahead, service, servers).minutes >= math.floor(naive)


# --- moving average ----------------------------------------------------------


def test_moving_average_moves_a_fifth_of_the_way_by_default() -> None:
    assert update_moving_average(300.0, 400.0) == pytest.approx(320.0)
    assert update_moving_average(300.0, 200.0) == pytest.approx(280.0)
    assert update_moving_average(300.0, 300.0) == 300.0


def test_moving_average_with_weight_one_takes_the_sample() -> None:
    assert update_moving_average(300.0, 42.0, weight=1.0) == 42.0


def test_moving_average_converges_to_a_steady_pace() -> None:
    average = 300.0
    for _ in range(60):
        average = update_moving_average(average, 600.0)
    assert average == pytest.approx(600.0, rel=1e-4)


@pytest.mark.parametrize("weight", [0.0, -0.1, 1.5, math.nan])
def test_moving_average_rejects_bad_weights(weight: float) -> None:
    with pytest.raises(ValueError, match="weight"):
        update_moving_average(300.0, 400.0, weight)


@pytest.mark.parametrize(
    ("current", "sample"), [(-1.0, 1.0), (1.0, -1.0), (math.nan, 1.0), (1.0, math.inf)]
)
def test_moving_average_rejects_bad_values(current: float, sample: float) -> None:
    with pytest.raises(ValueError):
        update_moving_average(current, sample)


@given(
    st.floats(min_value=0, max_value=1e6),
    st.floats(min_value=0, max_value=1e6),
    st.floats(min_value=0.01, max_value=1),
)
def test_moving_average_stays_between_old_value_and_sample(
    current: float, sample: float, weight: float
) -> None:
    updated = update_moving_average(current, sample, weight)
    low, high = min(current, sample), max(current, sample)
    assert low - 1e-6 <= updated <= high + 1e-6


def test_service_stats_count_samples_and_lean_on_the_configured_average_at_first() -> None:
    stats = ServiceStats(mean_service_seconds=300.0)
    assert stats.samples == 0
    stats = stats.observe(400.0).observe(400.0)
    assert stats.samples == 2
    # the configured 300 s counts as MIN_SAMPLES services: 300 -> 316.7 -> 328.6
    assert stats.mean_service_seconds == pytest.approx(300 + 100 / 6 + (400 - 300 - 100 / 6) / 7)


@pytest.mark.parametrize(("mean", "samples"), [(-1.0, 0), (math.inf, 0), (300.0, -1)])
def test_service_stats_reject_bad_values(mean: float, samples: int) -> None:
    with pytest.raises(ValueError):
        ServiceStats(mean_service_seconds=mean, samples=samples)


# --- honesty (issue 13) --------------------------------------------------------


def test_the_reported_near_instant_completions_do_not_pull_the_average_down() -> None:
    # three completions of a few seconds took CAJA from 5.0 to 2.6 minutes
    stats = ServiceStats(mean_service_seconds=FIVE_MINUTES, samples=40)
    for _ in range(3):
        stats = stats.observe(4.0)
    assert stats == ServiceStats(mean_service_seconds=FIVE_MINUTES, samples=40)


def test_a_very_long_service_counts_as_four_averages() -> None:
    stats = ServiceStats(mean_service_seconds=FIVE_MINUTES, samples=40).observe(10 * 3600.0)
    assert stats.mean_service_seconds == pytest.approx(300 + 0.2 * (1200 - 300))


def test_old_services_fade_away_once_enough_were_measured() -> None:
    stats = ServiceStats(mean_service_seconds=FIVE_MINUTES)
    for _ in range(60):
        stats = stats.observe(600.0)
    assert stats.samples == 60
    assert stats.mean_service_seconds == pytest.approx(600.0, rel=1e-3)


def test_few_samples_barely_move_the_configured_average() -> None:
    stats = ServiceStats(mean_service_seconds=FIVE_MINUTES)
    for _ in range(MIN_SAMPLES - 1):
        stats = stats.observe(900.0)
    assert stats.mean_service_seconds < 600.0


def test_the_reported_zero_width_quote_is_gone() -> None:
    # "0 min (0-0)" while someone was ahead
    estimate = estimate_wait(1, 1.0, 1)
    assert estimate.high_minutes > estimate.low_minutes


def test_a_queue_nobody_serves_gets_no_figure() -> None:
    assert honest_wait(3, FIVE_MINUTES, servers=0) is None
    assert honest_wait(3, FIVE_MINUTES, servers=1) == estimate_wait(3, FIVE_MINUTES, 1)


@given(scenarios())
def test_honest_range_always_contains_the_point_estimate(
    scenario: tuple[int, float, int, int],
) -> None:
    estimate = honest_wait(*scenario)
    if estimate is not None:
        assert 0 <= estimate.low_minutes <= estimate.minutes <= estimate.high_minutes


@given(scenarios())
def test_range_has_width_unless_the_ticket_is_being_called(
    scenario: tuple[int, float, int, int],
) -> None:
    ahead, _service, _servers, idle = scenario
    estimate = honest_wait(*scenario)
    if estimate is None:
        return
    being_called = idle > ahead
    if being_called:
        assert estimate == WaitEstimate(0, 0, 0)
    else:
        assert estimate.high_minutes > estimate.low_minutes


@given(tickets, service_seconds)
def test_never_promises_a_time_for_a_queue_with_nobody_serving_it(
    ahead: int, service: float
) -> None:
    assert honest_wait(ahead, service, servers=0, idle_servers=0) is None


@given(
    st.floats(min_value=0, max_value=4 * 3600, allow_nan=False),
    st.integers(min_value=0, max_value=1000),
    st.lists(st.floats(min_value=0, max_value=24 * 3600, allow_nan=False), max_size=50),
)
def test_observed_average_stays_finite_and_samples_only_count_plausible_services(
    mean: float, samples: int, services: list[float]
) -> None:
    stats = ServiceStats(mean_service_seconds=mean, samples=samples)
    for seconds in services:
        after = stats.observe(seconds)
        if seconds < 30.0 or seconds < 0.2 * stats.mean_service_seconds:
            assert after == stats
        else:
            assert after.samples == stats.samples + 1
            low = min(stats.mean_service_seconds, seconds)
            high = max(stats.mean_service_seconds, seconds)
            assert low - 1e-6 <= after.mean_service_seconds <= high + 1e-6
        stats = after
    assert math.isfinite(stats.mean_service_seconds)
