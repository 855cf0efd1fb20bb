"""What the metrics endpoint reads from PostgreSQL at scrape time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.metrics import read_all
from db.statuses import WAITING


@dataclass
class Snapshot:
    counters: list[tuple[str, str, float]] = field(default_factory=list)
    waiting: list[tuple[str, str, int]] = field(default_factory=list)  # branch, queue, n
    oldest_wait: list[tuple[str, str, float]] = field(default_factory=list)  # branch, queue, s
    advisors: list[tuple[str, str, int]] = field(default_factory=list)  # branch, status, n
    ops_last_success: list[tuple[str, float]] = field(default_factory=list)  # kind, unix ts
    ops_runs: list[tuple[str, str, int]] = field(default_factory=list)  # kind, outcome, n


async def snapshot(engine: AsyncEngine) -> Snapshot:
    async with engine.connect() as conn:
        waiting = (
            await conn.execute(
                text(
                    "SELECT b.name, t.queue, count(*) AS n,"
                    " extract(epoch FROM now() - min(t.arrived_at)) AS oldest FROM ticket t"
                    " JOIN branch b ON b.id = t.branch_id"
                    " WHERE t.status = ANY(:waiting) GROUP BY b.name, t.queue"
                ),
                {"waiting": WAITING},
            )
        ).all()
        ops = (
            await conn.execute(
                text(
                    "SELECT kind, outcome, count(*) AS n, extract(epoch FROM max(finished_at))"
                    " AS last FROM ops_run GROUP BY kind, outcome"
                )
            )
        ).all()
        advisors = (
            await conn.execute(
                text(
                    "SELECT b.name, a.status, count(*) AS n FROM advisor a"
                    " JOIN branch b ON b.id = a.branch_id WHERE a.active"
                    " GROUP BY b.name, a.status"
                )
            )
        ).all()
    return Snapshot(
        counters=await read_all(engine),
        waiting=[(r.name, r.queue, int(r.n)) for r in waiting],
        oldest_wait=[(r.name, r.queue, max(float(r.oldest), 0.0)) for r in waiting],
        advisors=[(r.name, r.status, int(r.n)) for r in advisors],
        ops_last_success=_last_success(ops),
        ops_runs=[(r.kind, r.outcome, int(r.n)) for r in ops],
    )


def _last_success(rows: Sequence[Row[Any]]) -> list[tuple[str, float]]:
    """Newest finish per kind among runs that completed (ok, or ok with an alert)."""
    best: dict[str, float] = {}
    for row in rows:
        if row.outcome in ("ok", "alert"):
            best[row.kind] = max(best.get(row.kind, 0.0), float(row.last))
    return sorted(best.items())
