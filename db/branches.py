"""Branches as staff register them (customers never create one), and their names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.hours import WORKDAYS, Holiday, same_hours_on, set_holidays, set_rules, set_weekly_hours
from db.tickets import BranchRow, _seed_queues
from domain.hours import DayHours

_FIND = "SELECT id, name, time_zone FROM branch WHERE lower(name) = lower(:n)"


async def find_branch(conn: AsyncConnection, name: str) -> BranchRow | None:
    """A branch by name, case-insensitive, as tickets and URLs name it."""
    row = (await conn.execute(text(_FIND), {"n": name})).first()
    return None if row is None else BranchRow(id=row.id, name=row.name, time_zone=row.time_zone)


async def create_branch(
    conn: AsyncConnection,
    name: str,
    time_zone: str,
    opens_at: time | None = None,
    closes_at: time | None = None,
    *,
    weekly: Sequence[DayHours] | None = None,
    holidays: Sequence[Holiday] = (),
    open_all_hours: bool = False,
    early_minutes: int = 0,
) -> BranchRow | None:
    """Register a branch with the default queue settings; None when the name is taken.

    Without `weekly` hours it opens Monday to Friday from `opens_at` to `closes_at`
    (09:00 to 14:00 unless given)."""
    row = (
        await conn.execute(
            text(
                "INSERT INTO branch (name, time_zone) VALUES (:n, :tz)"
                " ON CONFLICT ((lower(name))) DO NOTHING RETURNING id, name, time_zone"
            ),
            {"n": name, "tz": time_zone},
        )
    ).first()
    if row is None:
        return None
    await _seed_queues(conn, row.id)
    hours = {k: v for k, v in (("opens_at", opens_at), ("closes_at", closes_at)) if v is not None}
    if hours:
        assignments = ", ".join(f"{column} = :{column}" for column in hours)
        await conn.execute(
            text(f"UPDATE branch SET {assignments} WHERE id = :id"),  # noqa: S608 - fixed columns
            {**hours, "id": row.id},
        )
    if weekly is None:
        weekly = same_hours_on(WORKDAYS, opens_at or time(9, 0), closes_at or time(14, 0))
    await set_weekly_hours(conn, row.id, weekly)
    await set_holidays(conn, row.id, holidays)
    await set_rules(conn, row.id, open_all_hours=open_all_hours, early_minutes=early_minutes)
    return BranchRow(id=row.id, name=row.name, time_zone=row.time_zone)


async def count_branches(conn: AsyncConnection) -> int:
    return int((await conn.execute(text("SELECT count(*) FROM branch"))).scalar_one())


async def branch_names(conn: AsyncConnection, limit: int) -> list[str]:
    """The first `limit` branch names in alphabetical order."""
    rows = await conn.execute(
        text("SELECT name FROM branch ORDER BY lower(name) LIMIT :l"), {"l": limit}
    )
    return [r.name for r in rows]
