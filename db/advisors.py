"""Advisor records as supervisors manage them, and each advisor's day at the desk.

Uniqueness (email everywhere, desk among the active advisors of a branch) is
enforced by the schema's unique indexes; the checks here only exist to name
the offending field before the insert, and `conflicting_field` maps a lost
race on those indexes back to the same field.

Long because the advisor writes and the day-at-the-desk reads share the uniqueness
helpers at the top.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.statuses import WAITING
from db.supervision import as_minutes
from domain.states import AdvisorStatus, TicketStatus


@dataclass(frozen=True)
class AdvisorRow:
    id: int
    branch_id: int
    branch_office: str
    name: str
    email: str
    desk: int
    queues: list[str]
    status: str
    status_since: datetime
    active: bool
    current_ticket: uuid.UUID | None
    current_ticket_number: str | None
    username: str | None
    created_at: datetime


@dataclass(frozen=True)
class AdvisorDay:
    """An active advisor now, with what they have served today."""

    id: int
    name: str
    desk: int
    queues: list[str]
    status: str
    status_since: datetime
    idle_since: datetime | None
    current_ticket_number: str | None
    current_ticket_status: str | None
    pending_status: str | None
    served_today: int
    average_service_seconds_today: float | None

    @property
    def average_service_minutes_today(self) -> float | None:
        return as_minutes(self.average_service_seconds_today)


@dataclass(frozen=True)
class NewAdvisor:
    name: str
    email: str
    desk: int
    queues: list[str]


_SELECT = """
SELECT a.id, a.branch_id, b.name AS branch_office, a.name, a.email, a.desk, a.queues,
       a.status, a.status_since, a.active, a.current_ticket, t.number AS current_number,
       u.username, a.created_at
FROM advisor a
JOIN branch b ON b.id = a.branch_id
LEFT JOIN ticket t ON t.reference = a.current_ticket
LEFT JOIN app_user u ON u.advisor_id = a.id
"""


def _row(r: Any) -> AdvisorRow:
    return AdvisorRow(
        id=r.id,
        branch_id=r.branch_id,
        branch_office=r.branch_office,
        name=r.name,
        email=r.email,
        desk=r.desk,
        queues=list(r.queues),
        status=r.status,
        status_since=r.status_since,
        active=r.active,
        current_ticket=r.current_ticket,
        current_ticket_number=r.current_number,
        username=r.username,
        created_at=r.created_at,
    )


async def get_advisor(conn: AsyncConnection, advisor_id: int) -> AdvisorRow | None:
    row = (await conn.execute(text(_SELECT + " WHERE a.id = :id"), {"id": advisor_id})).first()
    return None if row is None else _row(row)


async def list_advisors(conn: AsyncConnection, branch_id: int | None = None) -> list[AdvisorRow]:
    """Every advisor (inactive ones too), by branch and desk."""
    where = " WHERE a.branch_id = :b" if branch_id is not None else ""
    order = " ORDER BY lower(b.name), a.active DESC, a.desk, a.id"
    rows = (await conn.execute(text(_SELECT + where + order), {"b": branch_id})).all()
    return [_row(r) for r in rows]


async def email_taken(conn: AsyncConnection, email: str) -> bool:
    found = await conn.execute(
        text("SELECT 1 FROM advisor WHERE lower(email) = lower(:e)"), {"e": email}
    )
    return found.first() is not None


async def desk_taken(
    conn: AsyncConnection, branch_id: int, desk: int, except_id: int | None = None
) -> bool:
    """Whether another active advisor of the branch sits at this desk."""
    found = await conn.execute(
        text(
            "SELECT 1 FROM advisor WHERE branch_id = :b AND desk = :d AND active"
            " AND id IS DISTINCT FROM :x"
        ),
        {"b": branch_id, "d": desk, "x": except_id},
    )
    return found.first() is not None


async def username_taken(conn: AsyncConnection, username: str) -> bool:
    found = await conn.execute(
        text("SELECT 1 FROM app_user WHERE lower(username) = lower(:u)"), {"u": username.strip()}
    )
    return found.first() is not None


async def insert_advisor(conn: AsyncConnection, branch_id: int, new: NewAdvisor) -> int:
    """A new active advisor, OFFLINE until they sign in at their desk."""
    advisor_id = (
        await conn.execute(
            text(
                "INSERT INTO advisor (branch_id, name, email, desk, queues, status)"
                " VALUES (:b, :n, :e, :d, CAST(:q AS varchar[]), :offline) RETURNING id"
            ),
            {
                "b": branch_id,
                "n": new.name,
                "e": new.email,
                "d": new.desk,
                "q": new.queues,
                "offline": AdvisorStatus.OFFLINE.value,
            },
        )
    ).scalar_one()
    return int(advisor_id)


async def delete_advisor(conn: AsyncConnection, advisor_id: int) -> None:
    """Undo a creation whose user could not be made (the advisor has no history yet)."""
    await conn.execute(text("DELETE FROM advisor WHERE id = :id"), {"id": advisor_id})


@dataclass(frozen=True)
class LockedAdvisor:
    id: int
    branch_id: int
    desk: int
    active: bool
    status: str
    current_ticket: uuid.UUID | None


async def lock_advisor(conn: AsyncConnection, advisor_id: int) -> LockedAdvisor | None:
    """The advisor row under a row lock, so no ticket is handed over mid-change."""
    row = (
        await conn.execute(
            text(
                "SELECT id, branch_id, desk, active, status, current_ticket FROM advisor"
                " WHERE id = :id FOR UPDATE"
            ),
            {"id": advisor_id},
        )
    ).first()
    if row is None:
        return None
    return LockedAdvisor(
        row.id, row.branch_id, row.desk, row.active, row.status, row.current_ticket
    )


async def update_advisor(
    conn: AsyncConnection,
    advisor_id: int,
    *,
    name: str | None,
    desk: int | None,
    queues: list[str] | None,
    active: bool | None,
    now: datetime,
) -> None:
    """Apply the given changes; deactivating also signs the advisor out and off their user."""
    await conn.execute(
        text(
            "UPDATE advisor SET name = coalesce(:n, name), desk = coalesce(:d, desk),"
            " queues = coalesce(CAST(:q AS varchar[]), queues),"
            " active = coalesce(:act, active),"
            " status = CASE WHEN :act IS FALSE THEN :offline ELSE status END,"
            " status_since = CASE WHEN :act IS FALSE AND status <> :offline THEN :now"
            " ELSE status_since END,"
            " idle_since = CASE WHEN :act IS FALSE THEN NULL ELSE idle_since END,"
            " pending_status = CASE WHEN :act IS FALSE THEN NULL ELSE pending_status END"
            " WHERE id = :id"
        ),
        {
            "id": advisor_id,
            "n": name,
            "d": desk,
            "q": queues,
            "act": active,
            "now": now,
            "offline": AdvisorStatus.OFFLINE.value,
        },
    )
    if active is not None:
        await conn.execute(
            text("UPDATE app_user SET active = :act WHERE advisor_id = :id"),
            {"id": advisor_id, "act": active},
        )


def conflicting_field(error: IntegrityError) -> str | None:
    """The request field behind a unique-index violation on advisor, if it is one of ours."""
    message = str(error.orig)
    if "ux_advisor_email" in message:
        return "email"
    if "ux_advisor_desk" in message:
        return "desk"
    return None


async def branch_day(conn: AsyncConnection, branch_id: int, day: date) -> list[AdvisorDay]:
    """Active advisors by desk, with the ticket in hand and today's completed services."""
    rows = (
        await conn.execute(
            text(
                "SELECT a.id, a.name, a.desk, a.queues, a.status, a.status_since, a.idle_since,"
                " a.pending_status, t.number AS current_number, t.status AS current_status,"
                " s.served, s.avg_service"
                " FROM advisor a"
                " LEFT JOIN ticket t ON t.reference = a.current_ticket"
                " LEFT JOIN LATERAL (SELECT count(*) AS served,"
                " avg(extract(epoch FROM completed_at - service_started_at))"
                " FILTER (WHERE service_started_at IS NOT NULL) AS avg_service"
                " FROM ticket d WHERE d.advisor_id = a.id AND d.business_day = :day"
                " AND d.status = :completed) s ON true"
                " WHERE a.branch_id = :b AND a.active ORDER BY a.desk, a.id"
            ),
            {"b": branch_id, "day": day, "completed": TicketStatus.COMPLETED.value},
        )
    ).all()
    return [
        AdvisorDay(
            id=r.id,
            name=r.name,
            desk=r.desk,
            queues=list(r.queues),
            status=r.status,
            status_since=r.status_since,
            idle_since=r.idle_since,
            current_ticket_number=r.current_number,
            current_ticket_status=r.current_status,
            pending_status=r.pending_status,
            served_today=int(r.served),
            average_service_seconds_today=None if r.avg_service is None else float(r.avg_service),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class QueueWaiting:
    queue: str
    waiting: int


@dataclass(frozen=True)
class RecallableNoShow:
    """The advisor's latest no-show that can still be called back (once, the same day)."""

    reference: uuid.UUID
    number: str
    queue: str
    no_show_at: datetime


async def branch_waiting(conn: AsyncConnection, branch_id: int) -> list[QueueWaiting]:
    """Every queue of the branch with how many wait in it now (highest priority first)."""
    rows = (
        await conn.execute(
            text(
                "SELECT q.queue, count(t.reference) AS waiting FROM branch_queue q"
                " LEFT JOIN ticket t ON t.branch_id = q.branch_id AND t.queue = q.queue"
                " AND t.status = ANY(:waiting)"
                " WHERE q.branch_id = :b GROUP BY q.queue, q.priority"
                " ORDER BY q.priority DESC, q.queue"
            ),
            {"b": branch_id, "waiting": WAITING},
        )
    ).all()
    return [QueueWaiting(r.queue, int(r.waiting)) for r in rows]


async def recallable_no_show(
    conn: AsyncConnection, advisor_id: int, day: date
) -> RecallableNoShow | None:
    """The advisor's most recent no-show of `day` not recalled yet (its recall window is
    open until the end of the business day, when its workflow ends)."""
    row = (
        await conn.execute(
            text(
                "SELECT reference, number, queue, updated_at FROM ticket"
                " WHERE advisor_id = :a AND status = :no_show AND recalls = 0"
                " AND business_day = :day ORDER BY updated_at DESC, reference LIMIT 1"
            ),
            {"a": advisor_id, "no_show": TicketStatus.NO_SHOW.value, "day": day},
        )
    ).first()
    if row is None:
        return None
    return RecallableNoShow(row.reference, row.number, row.queue, row.updated_at)


async def branch_of(conn: AsyncConnection, branch_id: int) -> tuple[str, str]:
    """The branch's name and time zone."""
    row = (
        await conn.execute(
            text("SELECT name, time_zone FROM branch WHERE id = :b"), {"b": branch_id}
        )
    ).one()
    return str(row.name), str(row.time_zone)
