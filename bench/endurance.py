"""Memory after many tickets: RSS of API, worker and bridge after each of two equal runs.

The issue's bound is on the three app processes together after 10,000 tickets, and a
second run of the same size must not grow them (no leak): a bounded cache fills in the
first run and stays full in the second, a leak keeps growing. Tickets are spread over
fresh branches (`PER_BRANCH` each) as a network of branches would spread them, so no
single queue's waiting line dominates the creation cost.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from bench import procstat
from bench.kiosk import KioskIssuer
from bench.phases import post_ticket

#: The processes whose memory the issue bounds.
APP = ("api", "worker", "bridge")
PER_BRANCH = 500


@dataclass(frozen=True)
class RunMemory:
    tickets: int
    errors: int
    seconds: float
    rss_mb: dict[str, float]

    @property
    def app_mb(self) -> float:
        return sum(self.rss_mb.get(name, 0.0) for name in APP)


async def create_many(
    client: httpx.AsyncClient, kiosks: KioskIssuer, tickets: int, workers: int
) -> tuple[int, int, float]:
    """Closed loop until `tickets` were created; (created, errors, seconds)."""
    created = errors = 0
    issued = 0
    lock = asyncio.Lock()
    kiosk = await kiosks.new()
    t0 = time.perf_counter()

    async def loop() -> None:
        nonlocal created, errors, issued, kiosk
        while True:
            async with lock:
                if issued >= tickets:
                    return
                issued += 1
                if issued % PER_BRANCH == 0:
                    kiosk = await kiosks.new()
                mine = kiosk
            _, resp = await post_ticket(client, mine)
            if resp is not None and resp.status_code == 201:
                created += 1
            else:
                errors += 1

    await asyncio.gather(*(loop() for _ in range(workers)))
    return created, errors, time.perf_counter() - t0


async def endurance(
    api_url: str,
    kiosks: KioskIssuer,
    pids: dict[str, int],
    tickets: int,
    runs: int = 2,
    workers: int = 16,
) -> list[RunMemory]:
    """`runs` runs of `tickets` creations each; RSS read after each run."""
    out: list[RunMemory] = []
    limits = httpx.Limits(max_connections=workers * 2, max_keepalive_connections=workers * 2)
    async with httpx.AsyncClient(base_url=api_url, timeout=30, limits=limits) as client:
        for _ in range(runs):
            created, errors, seconds = await create_many(client, kiosks, tickets, workers)
            rss = procstat.rss({k: v for k, v in pids.items() if k in APP})
            out.append(RunMemory(created, errors, seconds, {k: v / 2**20 for k, v in rss.items()}))
    return out


def text(runs: list[RunMemory]) -> str:
    lines = ["", "Memory after N tickets (RSS MB: api + worker + bridge)"]
    for i, run in enumerate(runs, 1):
        parts = ", ".join(f"{k} {run.rss_mb.get(k, 0.0):.0f}" for k in APP)
        lines.append(
            f"  run {i}: {run.tickets} created ({run.errors} errors) in {run.seconds:.0f} s"
            f" ({run.tickets / run.seconds:.1f}/s): {parts} = {run.app_mb:.0f} MB"
        )
    if len(runs) >= 2:
        growth = runs[-1].app_mb - runs[0].app_mb
        lines.append(f"  growth from run 1 to run {len(runs)}: {growth:+.0f} MB")
    return "\n".join(lines)


def as_json(runs: list[RunMemory]) -> list[dict[str, object]]:
    return [
        {
            "tickets": r.tickets,
            "errors": r.errors,
            "seconds": r.seconds,
            "rss_mb": r.rss_mb,
            "app_rss_mb": r.app_mb,
        }
        for r in runs
    ]
