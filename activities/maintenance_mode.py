"""The guard the ticket path's write activities call while maintenance mode is on.

While a restore replaces the database, ticket workflows must not write to it:
`ensure_writable` makes their write activities fail with a *retryable* error, so
Temporal simply retries them after maintenance ends and nothing is lost. The switch
itself (activities a restore runs) is `ops/activities/maintenance_mode.py`.
"""

from __future__ import annotations

import time
import weakref

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError

from db import ops

#: Error type of the refusal (retryable; name it in non_retryable_error_types never).
MAINTENANCE_ERROR = "MaintenanceMode"
#: How long one reading of the switch is trusted; bounds the extra queries per activity.
CACHE_SECONDS = 1.0

_cache: weakref.WeakKeyDictionary[AsyncEngine, tuple[float, ops.MaintenanceState]] = (
    weakref.WeakKeyDictionary()
)


async def maintenance_state(engine: AsyncEngine) -> ops.MaintenanceState:
    """The switch, read at most once per second per engine."""
    now = time.monotonic()
    cached = _cache.get(engine)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    state = await ops.get_maintenance(engine)
    _cache[engine] = (now, state)
    return state


async def ensure_writable(engine: AsyncEngine) -> None:
    """Raise a retryable ApplicationError while the application is in maintenance."""
    state = await maintenance_state(engine)
    if state.enabled:
        raise ApplicationError(
            f"Ticketero is in maintenance: {state.reason or 'no reason given'}",
            type=MAINTENANCE_ERROR,
        )
