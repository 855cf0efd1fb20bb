"""What the metrics endpoint reads from PostgreSQL at scrape time."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.metrics import read_all


@dataclass
class Snapshot:
    counters: list[tuple[str, str, float]] = field(default_factory=list)
    waiting: list[tuple[str, str, int]] = field(default_factory=list)  # branch, queue, n
    advisors: list[tuple[str, str, int]] = field(default_factory=list)  # branch, status, n


async def snapshot(engine: AsyncEngine) -> Snapshot:
    async with engine.connect() as conn:
        waiting = (
            await conn.execute(
                text(
                    "SELECT b.name, t.queue, count(*) AS n FROM ticket t"
                    " JOIN branch b ON b.id = t.branch_id"
                    " WHERE t.status IN ('WAITING', 'NOTIFIED') GROUP BY b.name, t.queue"
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
        advisors=[(r.name, r.status, int(r.n)) for r in advisors],
    )
