"""Waiting-time estimates from measured service times and staffing.

The naive "position x average service" ignores how many advisors serve the
queue; this model accounts for them and reports a range, because a single
figure hides how uncertain a wait of several customers is.

Honest by construction: `honest_wait` gives no figure at all for a queue nobody
serves now (`NO_ADVISORS`); a range is at least one minute wide unless the
ticket is being called (an idle advisor is left over); and the measured service
time (`ServiceStats.observe`) ignores near-instant completions, caps very long
ones, leans on the queue's configured average until `MIN_SAMPLES` services were
measured, and then weighs recent services exponentially more than old ones.
"""

import math
from dataclasses import dataclass

__all__ = [
    "DEFAULT_SMOOTHING_WEIGHT",
    "MIN_SAMPLES",
    "NO_ADVISORS",
    "ServiceStats",
    "WaitEstimate",
    "estimate_wait",
    "honest_wait",
    "update_moving_average",
]

#: z-score of the 90th percentile of a normal distribution; mean +/- Z * sd
#: spans roughly the 10th to the 90th percentile.
_Z_90 = 1.28
#: Absorbs float noise so that exactly 5 minutes is not rounded up to 6.
_EPSILON = 1e-9
#: Weight of a new sample in the moving average: the last ~10 services
#: dominate, so the estimate follows the pace of the day without jumping
#: after one unusually long service.
DEFAULT_SMOOTHING_WEIGHT = 0.2
#: Services measured before the figure follows the measurements at full weight;
#: until then the configured average counts as this many services.
MIN_SAMPLES = 5
#: A completion shorter than this (or than `_TRIM_LOW` of the average) is not a
#: service (a ticket closed by mistake, a customer who left at the desk): ignored.
MIN_PLAUSIBLE_SERVICE_SECONDS = 30.0
_TRIM_LOW = 0.2
#: A service longer than this many averages counts as this many averages.
_TRIM_HIGH = 4.0
#: Why a queue has no estimate: nobody serves it now.
NO_ADVISORS = "NO_ADVISORS"


@dataclass(frozen=True)
class WaitEstimate:
    """A wait in whole minutes: a point figure and a likely range around it."""

    minutes: int
    low_minutes: int
    high_minutes: int


def estimate_wait(
    tickets_ahead: int,
    mean_service_seconds: float,
    servers: int,
    idle_servers: int = 0,
) -> WaitEstimate:
    """Estimate how long until a ticket is called.

    Model: ``c = max(servers, 1)`` advisors serve the queue (a queue with no
    advisor is estimated as if one were there), ``n = tickets_ahead``,
    ``S = mean_service_seconds`` and ``i = idle_servers``.

    * If ``i > n`` an idle advisor is left over for this ticket: 0/0/0.
    * Otherwise the first ``i`` tickets ahead go straight to the idle
      advisors, and this ticket waits for ``k = n - i + 1`` departures from
      ``c`` busy advisors. With exponential service times the time between
      departures is exponential with mean ``S / c``, so the wait is
      Erlang(k) distributed with mean ``k * S / c`` and standard deviation
      ``sqrt(k) * S / c``.

    The point figure is the mean rounded up to whole minutes; the range is
    ``floor(max(0, mean - 1.28 * sd))`` to ``ceil(mean + 1.28 * sd)`` minutes,
    about the 10th to the 90th percentile (normal approximation), and at least
    one minute wide: only a ticket being called gets 0/0/0.
    """
    if tickets_ahead < 0 or servers < 0 or idle_servers < 0:
        raise ValueError("tickets_ahead, servers and idle_servers must not be negative")
    if not math.isfinite(mean_service_seconds) or mean_service_seconds < 0:
        raise ValueError("mean_service_seconds must be a finite, non-negative number")
    if idle_servers > servers:
        raise ValueError("idle_servers cannot exceed servers")
    if idle_servers > tickets_ahead:
        return WaitEstimate(minutes=0, low_minutes=0, high_minutes=0)
    departures = tickets_ahead - idle_servers + 1
    per_departure = mean_service_seconds / max(servers, 1)
    mean = departures * per_departure
    spread = _Z_90 * math.sqrt(departures) * per_departure
    low = math.floor(max(0.0, mean - spread) / 60 + _EPSILON)
    minutes = max(_ceil_minutes(mean), low)
    return WaitEstimate(
        minutes=minutes,
        low_minutes=low,
        high_minutes=max(_ceil_minutes(mean + spread), minutes, low + 1),
    )


def honest_wait(
    tickets_ahead: int,
    mean_service_seconds: float,
    servers: int,
    idle_servers: int = 0,
) -> WaitEstimate | None:
    """`estimate_wait`, or None when no advisor serves the queue now (reason
    `NO_ADVISORS`): no time is promised that nobody is there to keep."""
    if servers == 0:
        if tickets_ahead < 0 or idle_servers < 0:
            raise ValueError("tickets_ahead and idle_servers must not be negative")
        if idle_servers > 0:
            raise ValueError("idle_servers cannot exceed servers")
        return None
    return estimate_wait(tickets_ahead, mean_service_seconds, servers, idle_servers)


def _ceil_minutes(seconds: float) -> int:
    return max(0, math.ceil(seconds / 60 - _EPSILON))


def update_moving_average(
    current: float, sample: float, weight: float = DEFAULT_SMOOTHING_WEIGHT
) -> float:
    """Blend a new measurement into an exponentially weighted moving average.

    Returns ``current + weight * (sample - current)``: recent services count
    most, and no history has to be stored.
    """
    if not 0 < weight <= 1:
        raise ValueError("weight must be in (0, 1]")
    if not (math.isfinite(current) and math.isfinite(sample)):
        raise ValueError("current and sample must be finite numbers")
    if current < 0 or sample < 0:
        raise ValueError("current and sample must not be negative")
    return current + weight * (sample - current)


@dataclass(frozen=True)
class ServiceStats:
    """Measured service time of one queue at one branch.

    Seeded with the queue's default average (``samples == 0``) and refined
    with every completed service.
    """

    mean_service_seconds: float
    samples: int = 0

    def __post_init__(self) -> None:
        seconds = self.mean_service_seconds
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("mean_service_seconds must be a finite, non-negative number")
        if self.samples < 0:
            raise ValueError("samples must not be negative")

    def observe(self, seconds: float, weight: float = DEFAULT_SMOOTHING_WEIGHT) -> "ServiceStats":
        """Return the stats after one more completed service of `seconds`.

        A near-instant completion (under `MIN_PLAUSIBLE_SERVICE_SECONDS` or a fifth
        of the average) is ignored; a very long one counts as four averages. Until
        `MIN_SAMPLES` services were measured the average moves as if the configured
        figure were `MIN_SAMPLES` services already (weight ``1 / (MIN_SAMPLES + n +
        1)``); then as an exponentially weighted average (`weight`), so old services
        fade away.
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite, non-negative number")
        mean = self.mean_service_seconds
        if seconds < max(MIN_PLAUSIBLE_SERVICE_SECONDS, _TRIM_LOW * mean):
            return self
        sample = min(seconds, _TRIM_HIGH * mean) if mean > 0 else seconds
        if self.samples < MIN_SAMPLES:
            weight = min(weight, 1 / (MIN_SAMPLES + self.samples + 1))
        return ServiceStats(
            mean_service_seconds=update_moving_average(mean, sample, weight),
            samples=self.samples + 1,
        )
