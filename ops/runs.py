"""The stored reports of operations runs (`ops_run`): written by the report activities,
read by the operator CLI and REST endpoints (plain async functions on the process's engine).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.metrics import bump
from ops.contracts import OpsReport

#: Counter bumped once per alerting (or failed) step of a stored report.
ALERTS_COUNTER = "ops_alerts_total"


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
