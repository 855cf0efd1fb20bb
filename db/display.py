"""Queries of the live feeds: what a waiting-room screen shows."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from db import statuses

_WAITING_SQL = """
SELECT q.queue, count(t.reference) AS waiting
FROM branch b
JOIN branch_queue q ON q.branch_id = b.id
LEFT JOIN ticket t
  ON t.branch_id = q.branch_id AND t.queue = q.queue AND t.status = ANY(:waiting)
WHERE lower(b.name) = lower(:n)
GROUP BY q.queue, q.priority
ORDER BY q.priority DESC, q.queue
"""


async def waiting_counts(conn: AsyncConnection, branch: str) -> dict[str, int]:
    """Tickets waiting per queue of the branch (highest priority first); {} if unknown."""
    rows = (
        await conn.execute(text(_WAITING_SQL), {"n": branch, "waiting": statuses.WAITING})
    ).all()
    return {str(r.queue): int(r.waiting) for r in rows}
