"""A branch's opening hours, holidays and ticket-taking rules (`domain/hours.py` decides)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.hours import BranchSchedule, DayHours

#: Monday to Friday: the weekly hours of a branch registered without any.
WORKDAYS = range(5)


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str


@dataclass(frozen=True)
class BranchHoursRow:
    """What staff see and edit: the weekly hours, the holidays and the rules."""

    branch_id: int
    name: str
    schedule: BranchSchedule
    holidays: tuple[Holiday, ...]


async def hours_of(conn: AsyncConnection, branch_id: int) -> BranchHoursRow | None:
    branch = (
        await conn.execute(
            text(
                "SELECT id, name, time_zone, open_all_hours, early_minutes FROM branch"
                " WHERE id = :b"
            ),
            {"b": branch_id},
        )
    ).first()
    if branch is None:
        return None
    weekly = tuple(
        DayHours(int(r.weekday), r.opens, r.closes)
        for r in await conn.execute(
            text(
                "SELECT weekday, opens, closes FROM branch_hours WHERE branch_id = :b"
                " ORDER BY weekday"
            ),
            {"b": branch_id},
        )
    )
    holidays = tuple(
        Holiday(r.day, r.name)
        for r in await conn.execute(
            text("SELECT day, name FROM branch_holiday WHERE branch_id = :b ORDER BY day"),
            {"b": branch_id},
        )
    )
    schedule = BranchSchedule(
        branch.time_zone,
        weekly=weekly,
        holidays=frozenset(h.day for h in holidays),
        open_all_hours=bool(branch.open_all_hours),
        early_minutes=int(branch.early_minutes),
    )
    return BranchHoursRow(branch.id, branch.name, schedule, holidays)


async def hours_by_name(conn: AsyncConnection, name: str) -> BranchHoursRow | None:
    """A branch's hours by name (case-insensitive)."""
    found = (
        await conn.execute(text("SELECT id FROM branch WHERE lower(name) = lower(:n)"), {"n": name})
    ).scalar_one_or_none()
    return None if found is None else await hours_of(conn, int(found))


async def set_weekly_hours(
    conn: AsyncConnection, branch_id: int, weekly: Sequence[DayHours]
) -> None:
    """Replace the weekly hours (a weekday left out is closed)."""
    await conn.execute(text("DELETE FROM branch_hours WHERE branch_id = :b"), {"b": branch_id})
    if weekly:
        await conn.execute(
            text(
                "INSERT INTO branch_hours (branch_id, weekday, opens, closes)"
                " VALUES (:b, :d, :o, :c)"
            ),
            [{"b": branch_id, "d": d.weekday, "o": d.opens, "c": d.closes} for d in weekly],
        )


async def set_holidays(conn: AsyncConnection, branch_id: int, holidays: Sequence[Holiday]) -> None:
    """Replace the holidays."""
    await conn.execute(text("DELETE FROM branch_holiday WHERE branch_id = :b"), {"b": branch_id})
    if holidays:
        await conn.execute(
            text("INSERT INTO branch_holiday (branch_id, day, name) VALUES (:b, :d, :n)"),
            [{"b": branch_id, "d": h.day, "n": h.name} for h in holidays],
        )


async def set_rules(
    conn: AsyncConnection,
    branch_id: int,
    *,
    open_all_hours: bool | None = None,
    early_minutes: int | None = None,
) -> None:
    """Open at all hours, and how many minutes early tickets are taken."""
    if open_all_hours is not None:
        await conn.execute(
            text("UPDATE branch SET open_all_hours = :v WHERE id = :b"),
            {"v": open_all_hours, "b": branch_id},
        )
    if early_minutes is not None:
        await conn.execute(
            text("UPDATE branch SET early_minutes = :v WHERE id = :b"),
            {"v": early_minutes, "b": branch_id},
        )


@dataclass(frozen=True)
class HoursEdit:
    """What a `PUT /api/branches/{branch}` changes of the hours (None: unchanged)."""

    weekly: tuple[DayHours, ...] | None = None
    holidays: tuple[Holiday, ...] | None = None
    open_all_hours: bool | None = None
    early_minutes: int | None = None


async def apply_edit(conn: AsyncConnection, branch_id: int, edit: HoursEdit) -> None:
    if edit.weekly is not None:
        await set_weekly_hours(conn, branch_id, edit.weekly)
    if edit.holidays is not None:
        await set_holidays(conn, branch_id, edit.holidays)
    await set_rules(
        conn, branch_id, open_all_hours=edit.open_all_hours, early_minutes=edit.early_minutes
    )


async def retime_open_days(
    conn: AsyncConnection, branch_id: int, opens: time, closes: time
) -> None:
    """Give every weekday that opens the same hours (the single opensAt/closesAt edit)."""
    await conn.execute(
        text("UPDATE branch_hours SET opens = :o, closes = :c WHERE branch_id = :b"),
        {"o": opens, "c": closes, "b": branch_id},
    )


def same_hours_on(days: Sequence[int], opens: time, closes: time) -> tuple[DayHours, ...]:
    return tuple(DayHours(d, opens, closes) for d in days)
