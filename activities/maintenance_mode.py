"""The maintenance switch as activities, and the guard write activities call.

While a restore replaces the database, ticket workflows must not write to it:
`ensure_writable` makes their write activities fail with a *retryable* error, so
Temporal simply retries them after maintenance ends and nothing is lost.
"""

from __future__ import annotations

import time
import weakref

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import ops
from ops.contracts import MAINTENANCE_ENTER, MAINTENANCE_LEAVE, MaintenanceSwitch
from workflows.ops_contracts import Step

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


class MaintenanceModeActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name=MAINTENANCE_ENTER)
    async def enter(self, switch: MaintenanceSwitch) -> Step:
        """Refuse API writes (503) and hold ticket writes until `leave`."""
        state = await ops.set_maintenance(self._engine, True, switch.reason)
        return Step(
            name="maintenance_on",
            outcome="ok",
            detail=f"maintenance mode on: {switch.reason}",
            figures={"changed_at": state.changed_at.isoformat() if state.changed_at else None},
        )

    @activity.defn(name=MAINTENANCE_LEAVE)
    async def leave(self) -> Step:
        """Accept writes again; safe to repeat."""
        await ops.set_maintenance(self._engine, False)
        return Step(name="maintenance_off", outcome="ok", detail="maintenance mode off")
