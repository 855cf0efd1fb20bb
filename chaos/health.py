"""Samples every API's /actuator/health: which dependency each saw DOWN, and when."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import httpx

INTERVAL = 0.5


@dataclass(frozen=True)
class Reading:
    at: float  # time.time()
    api: int
    down: frozenset[str]  # components DOWN; {"api"} when the API itself did not answer


@dataclass
class HealthLog:
    readings: list[Reading] = field(default_factory=list)

    def saw_down(self, component: str, start: float, end: float) -> bool:
        return any(component in r.down for r in self.readings if start <= r.at <= end)

    def all_up_after(self, at: float) -> float | None:
        """When every API last turned fully UP after `at` (None if one never did)."""
        apis = {r.api for r in self.readings}
        times: list[float] = []
        for api in apis:
            mine = [r for r in self.readings if r.api == api and r.at >= at]
            if not mine or mine[-1].down:
                return None
            last_down = max((r.at for r in mine if r.down), default=at)
            times.append(min((r.at for r in mine if r.at >= last_down and not r.down), default=at))
        return max(times, default=None)


async def sample(urls: list[str], log: HealthLog, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=3.0, trust_env=False) as http:
        while not stop.is_set():
            for index, url in enumerate(urls):
                at = time.time()
                try:
                    resp = await http.get(f"{url}/actuator/health")
                    components = resp.json().get("components", {})
                    down = frozenset(
                        name for name, c in components.items() if c.get("status") != "UP"
                    )
                    if resp.status_code != 200 and not down:
                        down = frozenset({"api"})
                except (httpx.HTTPError, ValueError):
                    down = frozenset({"api"})
                log.readings.append(Reading(at, index, down))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), INTERVAL)
