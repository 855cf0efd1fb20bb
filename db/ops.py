"""SQL of the operations: run reports (`ops_run`), the maintenance switch (`app_state`)
and the advisory lock that keeps a backup and a restore from running at the same time.

Read helpers (`recent_runs`, `get_run`, `get_maintenance`) are what the operator CLI
and REST endpoints build on: plain async functions taking the process's engine.
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

from db.metrics import bump
from ops.contracts import OpsReport

#: Counter bumped once per alerting (or failed) step of a stored report.
ALERTS_COUNTER = "ops_alerts_total"
#: Session-level advisory lock key shared by every dump and restore of the app database
#: ("tick" in ASCII). Session-level, so it dies with the connection if a worker is killed.
OPS_LOCK_KEY = 0x7469636B


class OpsBusy(Exception):
    """Another backup or restore holds the operations lock."""


# -- reports ----------------------------------------------------------------------------


async def store_report(engine: AsyncEngine, report: OpsReport) -> bool:
    """Insert or replace the report of `report.workflow_id`; True when it was new.

    Alert counters are bumped in the same transaction, and only on first insert, so a
    retried store activity never counts an alert twice.
    """
    async with engine.begin() as conn:
        inserted = (
            await conn.execute(
                text(
                    "INSERT INTO ops_run (workflow_id, kind, outcome, summary, report,"
                    " started_at, finished_at) VALUES (:w, :k, :o, :s, CAST(:r AS jsonb), :st, :f)"
                    " ON CONFLICT (workflow_id) DO UPDATE SET kind = EXCLUDED.kind,"
                    " outcome = EXCLUDED.outcome, summary = EXCLUDED.summary,"
                    " report = EXCLUDED.report, started_at = EXCLUDED.started_at,"
                    " finished_at = EXCLUDED.finished_at RETURNING (xmax = 0) AS inserted"
                ),
                {
                    "w": report.workflow_id,
                    "k": report.kind,
                    "o": report.outcome,
                    "s": report.summary,
                    "r": report.model_dump_json(),
                    "st": report.started_at,
                    "f": report.finished_at,
                },
            )
        ).scalar_one()
        if inserted:
            alerts = [
                (ALERTS_COUNTER, f"check={step.name}", 1.0)
                for step in report.steps
                if step.outcome in ("alert", "failed")
            ]
            if alerts:
                await bump(conn, alerts)
    return bool(inserted)


async def recent_runs(
    engine: AsyncEngine, kind: str | None = None, limit: int = 20
) -> list[OpsReport]:
    """Newest reports first, optionally of one kind (`backup`, `restore`,
    `maintenance_daily`, `maintenance_weekly`, `maintenance_monthly`, ...)."""
    where = "WHERE kind = :k " if kind else ""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT report::text AS report FROM ops_run {where}"  # noqa: S608 - fixed text
                    "ORDER BY finished_at DESC, workflow_id LIMIT :n"
                ),
                {"k": kind, "n": max(1, limit)},
            )
        ).all()
    return [OpsReport.model_validate_json(r.report) for r in rows]


async def get_run(engine: AsyncEngine, workflow_id: str) -> OpsReport | None:
    """The stored report of one run, or None while it has not finished."""
    async with engine.connect() as conn:
        raw = (
            await conn.execute(
                text("SELECT report::text FROM ops_run WHERE workflow_id = :w"),
                {"w": workflow_id},
            )
        ).scalar_one_or_none()
    return None if raw is None else OpsReport.model_validate_json(raw)


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
