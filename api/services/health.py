"""Health of the API's dependencies, in the actuator shape operators already script against.

Every probe is bounded (`CHECK_TIMEOUT`) and they run at once, so while a dependency is
unreachable (refusing, or silently dropping packets) the report still comes back within
about two seconds, naming it DOWN with the kind of error and never its address.

The same probes guard requests whose dependency is reached further on (`require`):
ticket creation and transitions (their workflow needs PostgreSQL and Temporal) and new
live streams (RabbitMQ); without this a request would wait out its deadline, or a stream
open on a silent broker, instead of getting its 503 at once. Each component is probed
at most once per `GATE_SECONDS` (shared by every request), and whatever the health last
saw counts too. While nothing was seen wrong the request does not wait for the refresh;
a refused connection closes the gate at once, timeouts only when `SLOW_STRIKES` in a row.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import aio_pika
from sqlalchemy import text

from api.db_reads import lookup
from api.errors import ApiError
from api.resources import Resources

CHECK_TIMEOUT = 2.0
RABBIT_CACHE_SECONDS = 1.0
GATE_SECONDS = 1.0
_rabbit_cache: tuple[float, dict[str, Any]] | None = None
#: Probes given up on at their deadline, kept referenced while they wind down.
_abandoned: set[asyncio.Task[dict[str, Any]]] = set()


def _down(err: BaseException) -> dict[str, Any]:
    return {"status": "DOWN", "details": {"error": type(err).__name__}}


async def check_db(res: Resources) -> dict[str, Any]:
    async with lookup(res.probe_engine or res.engine) as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "UP", "details": {"database": "PostgreSQL"}}


async def check_rabbit(res: Resources) -> dict[str, Any]:
    """Opens a real AMQP connection (cached briefly so scrapes do not hammer the broker)."""
    global _rabbit_cache
    now = time.monotonic()
    if _rabbit_cache is not None and now - _rabbit_cache[0] < RABBIT_CACHE_SECONDS:
        return _rabbit_cache[1]
    url = res.settings.rabbitmq_url.get_secret_value()

    async def connect() -> dict[str, Any]:
        conn = await aio_pika.connect(url, timeout=CHECK_TIMEOUT)
        await conn.close()
        return {"status": "UP"}

    result = await _bounded(connect)
    _rabbit_cache = (now, result)
    return result


async def check_temporal(res: Resources) -> dict[str, Any]:
    client = await res.temporal.get()
    ok = await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT))
    return {"status": "UP" if ok else "DOWN", "details": {"namespace": client.namespace}}


Check = Callable[[Resources], Awaitable[dict[str, Any]]]
CHECKS: dict[str, Check] = {"db": check_db, "rabbit": check_rabbit, "temporal": check_temporal}
#: The catalogue message and Retry-After of a request refused for a missing component.
REFUSALS = {
    "db": ("db.unavailable", 2),
    "temporal": ("temporal.unavailable", 5),
    "rabbit": ("live.unavailable", 5),
}


def _wound_down(task: asyncio.Task[dict[str, Any]]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: a probe's failure is already reported as DOWN


async def _bounded(probe: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """The probe's report within CHECK_TIMEOUT. Past it the probe is cancelled and left to
    wind down on its own: closing a connection to a silent server would wait again."""
    task = asyncio.ensure_future(probe())
    done, _ = await asyncio.wait({task}, timeout=CHECK_TIMEOUT)
    if not done:
        task.cancel()
        _abandoned.add(task)
        task.add_done_callback(_wound_down)
        return _down(TimeoutError())
    try:
        return task.result()
    except Exception as err:
        return _down(err)


#: Probes that time out in a row before requests are turned away. One slow probe may be
#: our own busy event loop (a burst of creations), not the dependency: refusing every
#: request on that would turn load into an outage. An error (refused, reset) counts at once.
SLOW_STRIKES = 2


@dataclass
class _Gate:
    """The last seen state of one component, and the probe refreshing it, if any."""

    seen_at: float = float("-inf")
    started: float = float("-inf")
    up: bool = True
    slow: int = 0
    probe: asyncio.Task[dict[str, Any]] | None = None

    def saw(self, part: dict[str, Any], started: float) -> None:
        """Record a probe's report, unless a probe started later has reported already."""
        if started < self.started:
            return
        self.started, self.seen_at = started, time.monotonic()
        if part["status"] == "UP":
            self.up, self.slow = True, 0
        elif part.get("details", {}).get("error") == TimeoutError.__name__:
            self.slow += 1
            self.up = self.slow < SLOW_STRIKES
        else:
            self.up, self.slow = False, SLOW_STRIKES

    async def is_up(self, name: str, res: Resources) -> bool:
        clean = self.up and self.slow == 0
        if time.monotonic() - self.seen_at < GATE_SECONDS and (clean or not self.up):
            return self.up
        if self.probe is None or self.probe.done():  # one probe at a time, shared
            started = time.monotonic()
            self.probe = asyncio.ensure_future(_bounded(partial(CHECKS[name], res)))
            self.probe.add_done_callback(
                lambda task: None if task.cancelled() else self.saw(task.result(), started)
            )
        if clean:
            return True  # nothing seen wrong: refresh in the background, do not make it wait
        await asyncio.shield(self.probe)
        return self.up


_gates: dict[str, _Gate] = {name: _Gate() for name in REFUSALS}


async def require(res: Resources, *components: str) -> None:
    """503 with Retry-After, naming the first component of `components` that is DOWN."""
    for name in components:
        if not await _gates[name].is_up(name, res):
            key, retry_after = REFUSALS[name]
            raise ApiError(
                503, key, extra={"dependency": name}, headers={"Retry-After": str(retry_after)}
            )


async def health(res: Resources, components: tuple[str, ...]) -> dict[str, Any]:
    started = time.monotonic()
    results = await asyncio.gather(*(_bounded(partial(CHECKS[name], res)) for name in components))
    parts = dict(zip(components, results, strict=True))
    for name, part in parts.items():
        if name in _gates:  # what the health just saw, creation sees too
            _gates[name].saw(part, started)
    status = "UP" if all(p["status"] == "UP" for p in parts.values()) else "DOWN"
    return {"status": status, "components": parts}
