"""Health of the API's dependencies, in the actuator shape operators already script against.

Every probe is bounded (`CHECK_TIMEOUT`) and they run at once, so while a dependency is
unreachable (refusing, or silently dropping packets) the report still comes back within
about two seconds, naming it DOWN with the kind of error and never its address.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aio_pika
from sqlalchemy import text

from api.errors import ApiError
from api.resources import Resources

CHECK_TIMEOUT = 2.0
RABBIT_CACHE_SECONDS = 1.0
_rabbit_cache: tuple[float, dict[str, Any]] | None = None
DB_GATE_SECONDS = 1.0
#: (when the database was last probed, whether it was UP, the probe running now)
_db_gate: tuple[float, bool, asyncio.Task[dict[str, Any]] | None] = (float("-inf"), True, None)


def _down(err: BaseException) -> dict[str, Any]:
    return {"status": "DOWN", "details": {"error": type(err).__name__}}


async def check_db(res: Resources) -> dict[str, Any]:
    async with res.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "UP", "details": {"database": "PostgreSQL"}}


async def check_rabbit(res: Resources) -> dict[str, Any]:
    """Opens a real AMQP connection (cached briefly so scrapes do not hammer the broker)."""
    global _rabbit_cache
    now = time.monotonic()
    if _rabbit_cache is not None and now - _rabbit_cache[0] < RABBIT_CACHE_SECONDS:
        return _rabbit_cache[1]
    url = res.settings.rabbitmq_url.get_secret_value()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            conn = await aio_pika.connect(url, timeout=CHECK_TIMEOUT)
            await conn.close()
        result: dict[str, Any] = {"status": "UP"}
    except Exception as err:
        result = _down(err)
    _rabbit_cache = (now, result)
    return result


async def check_temporal(res: Resources) -> dict[str, Any]:
    client = await res.temporal.get()
    ok = await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT))
    return {"status": "UP" if ok else "DOWN", "details": {"namespace": client.namespace}}


Check = Callable[[Resources], Awaitable[dict[str, Any]]]
CHECKS: dict[str, Check] = {"db": check_db, "rabbit": check_rabbit, "temporal": check_temporal}


async def _bounded(check: Check, res: Resources) -> dict[str, Any]:
    """One component's report within CHECK_TIMEOUT, whatever its client does."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            return await check(res)
    except Exception as err:
        return _down(err)


async def require_database(res: Resources) -> None:
    """503 at once while PostgreSQL is away, for a request that needs it only further on
    (ticket creation: its workflow writes the row and would retry until our deadline).
    One shared probe at most every DB_GATE_SECONDS, so under load this costs nothing."""
    global _db_gate
    seen_at, up, probe = _db_gate
    if time.monotonic() - seen_at >= DB_GATE_SECONDS:
        if probe is None or probe.done():
            probe = asyncio.create_task(_bounded(check_db, res))
            _db_gate = (seen_at, up, probe)
        up = (await asyncio.shield(probe))["status"] == "UP"
        if _db_gate[2] is probe:
            _db_gate = (time.monotonic(), up, None)
    if not up:
        raise ApiError(
            503, "db.unavailable", extra={"dependency": "db"}, headers={"Retry-After": "2"}
        )


async def health(res: Resources, components: tuple[str, ...]) -> dict[str, Any]:
    global _db_gate
    results = await asyncio.gather(*(_bounded(CHECKS[name], res) for name in components))
    parts = dict(zip(components, results, strict=True))
    if "db" in parts:  # what the health just saw, creation sees too
        _db_gate = (time.monotonic(), parts["db"]["status"] == "UP", _db_gate[2])
    status = "UP" if all(p["status"] == "UP" for p in parts.values()) else "DOWN"
    return {"status": status, "components": parts}
