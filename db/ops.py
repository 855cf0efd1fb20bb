"""SQL every process shares with operations: the maintenance switch (`app_state`) and
the advisory lock that keeps a backup and a restore from running at the same time.

The run reports (`ops_run`) belong to operations alone: `ops/runs.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

#: Session-level advisory lock key shared by every dump and restore of the app database
#: ("tick" in ASCII). Session-level, so it dies with the connection if a worker is killed.
OPS_LOCK_KEY = 0x7469636B


class OpsBusy(Exception):
    """Another backup or restore holds the operations lock."""


# -- maintenance switch -----------------------------------------------------------------


@dataclass(frozen=True)
class MaintenanceState:
    enabled: bool
    reason: str | None
    changed_at: datetime | None


async def get_maintenance(engine: AsyncEngine) -> MaintenanceState:
    """The switch as stored; a database without the row counts as not in maintenance."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT maintenance, maintenance_reason, changed_at FROM app_state WHERE id = 1"
                )
            )
        ).first()
    if row is None:
        return MaintenanceState(False, None, None)
    return MaintenanceState(bool(row.maintenance), row.maintenance_reason, row.changed_at)


async def set_maintenance(
    engine: AsyncEngine, enabled: bool, reason: str | None = None
) -> MaintenanceState:
    """Turn the switch on (with a reason shown to API clients) or off; idempotent."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "INSERT INTO app_state (id, maintenance, maintenance_reason, changed_at)"
                    " VALUES (1, :on, :r, now()) ON CONFLICT (id) DO UPDATE SET"
                    " maintenance = EXCLUDED.maintenance,"
                    " maintenance_reason = EXCLUDED.maintenance_reason, changed_at = now()"
                    " RETURNING maintenance, maintenance_reason, changed_at"
                ),
                {"on": enabled, "r": reason if enabled else None},
            )
        ).one()
    return MaintenanceState(bool(row.maintenance), row.maintenance_reason, row.changed_at)


# -- mutual exclusion -------------------------------------------------------------------


@asynccontextmanager
async def ops_lock(
    engine: AsyncEngine, *, wait_seconds: float, on_wait: Callable[[], None] | None = None
) -> AsyncIterator[None]:
    """Hold the operations advisory lock for the block; waits (calling `on_wait`, e.g. a
    heartbeat) up to `wait_seconds`, then raises OpsBusy.

    A lock row would outlive a killed worker; a session-level advisory lock is released
    by PostgreSQL as soon as the holder's connection drops.
    """
    async with engine.connect() as raw:
        conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
        deadline = time.monotonic() + wait_seconds
        while True:
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": OPS_LOCK_KEY})
            ).scalar_one()
            if got:
                break
            if time.monotonic() >= deadline:
                raise OpsBusy("another backup or restore is running")
            if on_wait is not None:
                on_wait()
            await asyncio.sleep(1.0)
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": OPS_LOCK_KEY})
