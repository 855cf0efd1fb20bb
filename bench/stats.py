"""Percentiles and a one-line summary of latency samples."""

from __future__ import annotations

import math
from dataclasses import dataclass


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    name: str
    count: int
    errors: int
    seconds: float
    p50: float
    p95: float
    p99: float

    @property
    def throughput(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"{self.name:<34} n={self.count:<5} err={self.errors:<3} "
            f"thr={self.throughput:7.1f}/s  p50={self.p50 * 1000:7.1f} ms  "
            f"p95={self.p95 * 1000:7.1f} ms  p99={self.p99 * 1000:7.1f} ms"
        )


def summarize(name: str, samples: list[float], errors: int, seconds: float) -> Summary:
    return Summary(
        name=name,
        count=len(samples),
        errors=errors,
        seconds=seconds,
        p50=percentile(samples, 50),
        p95=percentile(samples, 95),
        p99=percentile(samples, 99),
    )
