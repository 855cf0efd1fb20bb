"""Read-model queries behind the supervisor's screens, plus the branch settings writes.

Every figure is computed in PostgreSQL from the ticket and advisor rows, so
each API replica shows the same numbers. "Today" is the branch's business day
(its own time zone), which the caller passes in.

Long because each supervisor figure is its own query; they share the business-day and
opening-hours helpers at the top.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.statuses import ACTIVE, BEING_SERVED, SERVING_ADVISORS, WAITING
from domain.states import AdvisorStatus, MessageState, TicketStatus

#: Columns a supervisor may edit, by the name the service uses.
_BRANCH_COLUMNS = {"time_zone": "time_zone", "opens_at": "opens_at", "closes_at": "closes_at"}
_QUEUE_COLUMNS = {
    "avg_service_seconds": "avg_service_seconds",
    "service_samples": "service_samples",
    "priority": "priority",
    "notify_threshold": "notify_threshold",
    "target_wait_minutes": "target_wait_minutes",
    "no_show_seconds": "no_show_seconds",
}


@dataclass(frozen=True)
class QueueSettingsRow:
    queue: str
    prefix: str
    avg_service_seconds: float
    service_samples: int
    priority: int
    notify_threshold: int
    target_wait_minutes: int
    no_show_seconds: int

    @property
    def avg_service_minutes(self) -> float:
        return round(self.avg_service_seconds / 60, 2)


@dataclass(frozen=True)
class BranchSettingsRow:
    id: int
    name: str
    time_zone: str
    opens_at: time
    closes_at: time
    queues: list[QueueSettingsRow]


def as_minutes(seconds: float | None) -> float | None:
    """Seconds as minutes with one decimal, as a supervisor's screen shows them."""
    return None if seconds is None else round(seconds / 60, 1)


@dataclass(frozen=True)
class DayPercentiles:
    """One queue's day: median and 90th percentile of the waits and of the services."""

    wait_p50_seconds: float | None
    wait_p90_seconds: float | None
    service_p50_seconds: float | None
    service_p90_seconds: float | None


@dataclass(frozen=True)
class QueueFigures:
    """One queue now and today; waits are None when there is nothing to measure."""

    queue: str
    priority: int
    waiting: int
    being_served: int
    completed_today: int
    average_wait_seconds: float | None
    oldest_number: str | None
    oldest_wait_seconds: float | None
    serving_advisors: int
    idle_advisors: int
    avg_service_seconds: float
    service_samples: int
    #: Today's percentiles (arrival to call; start to completion), filled by the dashboard.
    day: DayPercentiles | None = None

    @property
    def average_wait_minutes(self) -> float | None:
        return as_minutes(self.average_wait_seconds)

    @property
    def wait_p50_minutes(self) -> float | None:
        return as_minutes(self.day.wait_p50_seconds) if self.day else None

    @property
    def wait_p90_minutes(self) -> float | None:
        return as_minutes(self.day.wait_p90_seconds) if self.day else None

    @property
    def service_p50_minutes(self) -> float | None:
        return as_minutes(self.day.service_p50_seconds) if self.day else None

    @property
    def service_p90_minutes(self) -> float | None:
        return as_minutes(self.day.service_p90_seconds) if self.day else None

    @property
    def longest_wait_minutes(self) -> float | None:
        return as_minutes(self.oldest_wait_seconds)

    @property
    def average_service_minutes(self) -> float:
        return round(self.avg_service_seconds / 60, 1)


@dataclass(frozen=True)
class LineEntry:
    reference: uuid.UUID
    number: str
    status: str
    arrived_at: datetime


@dataclass(frozen=True)
class DayOutcomes:
    """How today's tickets of one queue ended (or where they are)."""

    completed: int
    cancelled: int
    no_show: int
    expired: int


@dataclass(frozen=True)
class WaitPercentiles:
    """Seconds from arrival to call among tickets called today."""

    p50_seconds: float | None
    p90_seconds: float | None
    samples: int


@dataclass(frozen=True)
class HistoryTicket:
    reference: uuid.UUID
    number: str
    queue: str
    original_queue: str | None
    branch_office: str
    status: str
    business_day: date
    arrived_at: datetime
    called_at: datetime | None
    service_started_at: datetime | None
    completed_at: datetime | None
    advisor_id: int | None
    desk: int | None
    recalls: int
    transfers: int


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    advisor_id: int | None
    details: dict[str, Any] | None


@dataclass(frozen=True)
class HistoryMessage:
    """One customer message of the ticket and how its delivery went."""

    type: str
    channel: str
    state: str
    attempts: int
    last_error: str | None
    scheduled_at: datetime
    sent_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class TicketMatch:
    """A ticket found by its number within a branch's business day."""

    reference: uuid.UUID
    number: str
    queue: str
    status: str
    business_day: date
    arrived_at: datetime
    called_at: datetime | None
    service_started_at: datetime | None
    completed_at: datetime | None
    advisor_id: int | None
    desk: int | None


_BRANCH_SQL = "SELECT id, name, time_zone, opens_at, closes_at FROM branch"
_QUEUES_SQL = (
    "SELECT branch_id, queue, prefix, avg_service_seconds, service_samples, priority,"
    " notify_threshold, target_wait_minutes, no_show_seconds FROM branch_queue"
    " WHERE branch_id = ANY(:ids) ORDER BY branch_id, priority DESC, queue"
)


async def _with_queues(conn: AsyncConnection, rows: list[Any]) -> list[BranchSettingsRow]:
    ids = [r.id for r in rows]
    queues: dict[int, list[QueueSettingsRow]] = {i: [] for i in ids}
    for q in (await conn.execute(text(_QUEUES_SQL), {"ids": ids})).all():
        queues[q.branch_id].append(
            QueueSettingsRow(
                q.queue,
                q.prefix,
                float(q.avg_service_seconds),
                int(q.service_samples),
                int(q.priority),
                int(q.notify_threshold),
                int(q.target_wait_minutes),
                int(q.no_show_seconds),
            )
        )
    return [
        BranchSettingsRow(r.id, r.name, r.time_zone, r.opens_at, r.closes_at, queues[r.id])
        for r in rows
    ]


async def find_branch(conn: AsyncConnection, name: str) -> BranchSettingsRow | None:
    """A branch by name, as the public API addresses it (case-insensitive)."""
    row = (
        await conn.execute(text(_BRANCH_SQL + " WHERE lower(name) = lower(:n)"), {"n": name})
    ).first()
    return None if row is None else (await _with_queues(conn, [row]))[0]


async def list_branches(
    conn: AsyncConnection, limit: int | None = None, offset: int = 0
) -> list[BranchSettingsRow]:
    page = " LIMIT :l OFFSET :o" if limit is not None else ""
    sql = _BRANCH_SQL + " ORDER BY lower(name), id" + page
    rows = (await conn.execute(text(sql), {"l": limit, "o": offset})).all()
    return await _with_queues(conn, list(rows))


async def update_branch(conn: AsyncConnection, branch_id: int, changes: dict[str, Any]) -> None:
    await _update(conn, "branch", _BRANCH_COLUMNS, changes, "id = :id", {"id": branch_id})


async def update_queue(
    conn: AsyncConnection, branch_id: int, queue: str, changes: dict[str, Any]
) -> None:
    where = "branch_id = :id AND queue = :queue"
    await _update(
        conn, "branch_queue", _QUEUE_COLUMNS, changes, where, {"id": branch_id, "queue": queue}
    )


async def _update(
    conn: AsyncConnection,
    table: str,
    columns: dict[str, str],
    changes: dict[str, Any],
    where: str,
    keys: dict[str, Any],
) -> None:
    """UPDATE with a SET list built only from whitelisted column names."""
    if not changes:
        return
    sets = ", ".join(f"{columns[name]} = :v_{name}" for name in changes)
    params = {**keys, **{f"v_{name}": value for name, value in changes.items()}}
    await conn.execute(text(f"UPDATE {table} SET {sets} WHERE {where}"), params)  # noqa: S608


_FIGURES_SQL = """
SELECT q.queue, q.priority, q.avg_service_seconds, q.service_samples,
       coalesce(t.waiting, 0) AS waiting, coalesce(t.being_served, 0) AS being_served,
       coalesce(t.completed, 0) AS completed, t.avg_wait,
       o.number AS oldest_number, o.arrived_at AS oldest_arrived_at,
       coalesce(s.serving, 0) AS serving, coalesce(s.idle, 0) AS idle
FROM branch_queue q
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE status = ANY(:waiting)) AS waiting,
           count(*) FILTER (WHERE status = ANY(:being_served)) AS being_served,
           count(*) FILTER (WHERE status = :completed AND business_day = :day) AS completed,
           avg(extract(epoch FROM called_at - arrived_at))
               FILTER (WHERE business_day = :day AND called_at IS NOT NULL) AS avg_wait
    FROM ticket
    WHERE branch_id = q.branch_id AND queue = q.queue
      AND (business_day = :day OR status = ANY(:active))
) t ON true
LEFT JOIN LATERAL (
    SELECT number, arrived_at FROM ticket
    WHERE branch_id = q.branch_id AND queue = q.queue AND status = ANY(:waiting)
    ORDER BY arrived_at, reference LIMIT 1
) o ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE status = ANY(:serving)) AS serving,
           count(*) FILTER (WHERE status = :available AND current_ticket IS NULL) AS idle
    FROM advisor
    WHERE branch_id = q.branch_id AND active AND q.queue = ANY(queues)
) s ON true
WHERE q.branch_id = :b
"""
_FIGURES_STATUSES = {
    "waiting": WAITING,
    "being_served": BEING_SERVED,
    "active": ACTIVE,
    "completed": TicketStatus.COMPLETED.value,
    "serving": SERVING_ADVISORS,
    "available": AdvisorStatus.AVAILABLE.value,
}


async def queue_figures(
    conn: AsyncConnection, branch_id: int, day: date, now: datetime, queue: str | None = None
) -> list[QueueFigures]:
    """Per queue: the line now, today's throughput and who can serve it (highest priority first)."""
    sql = (
        _FIGURES_SQL + (" AND q.queue = :q" if queue else "") + " ORDER BY q.priority DESC, q.queue"
    )
    params = {"b": branch_id, "day": day, "q": queue, **_FIGURES_STATUSES}
    rows = (await conn.execute(text(sql), params)).all()
    return [
        QueueFigures(
            queue=r.queue,
            priority=int(r.priority),
            waiting=int(r.waiting),
            being_served=int(r.being_served),
            completed_today=int(r.completed),
            average_wait_seconds=None if r.avg_wait is None else float(r.avg_wait),
            oldest_number=r.oldest_number,
            oldest_wait_seconds=None
            if r.oldest_arrived_at is None
            else max((now - r.oldest_arrived_at).total_seconds(), 0.0),
            serving_advisors=int(r.serving),
            idle_advisors=min(int(r.idle), int(r.serving)),
            avg_service_seconds=float(r.avg_service_seconds),
            service_samples=int(r.service_samples),
        )
        for r in rows
    ]


async def waiting_line(conn: AsyncConnection, branch_id: int, queue: str) -> list[LineEntry]:
    """The queue's waiting tickets in calling order (the order positions are counted in)."""
    rows = (
        await conn.execute(
            text(
                "SELECT reference, number, status, arrived_at FROM ticket"
                " WHERE branch_id = :b AND queue = :q AND status = ANY(:waiting)"
                " ORDER BY arrived_at, reference"
            ),
            {"b": branch_id, "q": queue, "waiting": WAITING},
        )
    ).all()
    return [LineEntry(r.reference, r.number, r.status, r.arrived_at) for r in rows]


async def day_outcomes(conn: AsyncConnection, branch_id: int, queue: str, day: date) -> DayOutcomes:
    row = (
        await conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE status = :completed) AS completed,"
                " count(*) FILTER (WHERE status = :cancelled) AS cancelled,"
                " count(*) FILTER (WHERE status = :no_show) AS no_show,"
                " count(*) FILTER (WHERE status = :expired) AS expired"
                " FROM ticket WHERE branch_id = :b AND queue = :q AND business_day = :day"
            ),
            {
                "b": branch_id,
                "q": queue,
                "day": day,
                "completed": TicketStatus.COMPLETED.value,
                "cancelled": TicketStatus.CANCELLED.value,
                "no_show": TicketStatus.NO_SHOW.value,
                "expired": TicketStatus.EXPIRED.value,
            },
        )
    ).one()
    return DayOutcomes(int(row.completed), int(row.cancelled), int(row.no_show), int(row.expired))


async def wait_percentiles(
    conn: AsyncConnection, branch_id: int, queue: str, day: date
) -> WaitPercentiles:
    row = (
        await conn.execute(
            text(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w) AS p50,"
                " percentile_cont(0.9) WITHIN GROUP (ORDER BY w) AS p90, count(*) AS n"
                " FROM (SELECT extract(epoch FROM called_at - arrived_at) AS w FROM ticket"
                " WHERE branch_id = :b AND queue = :q AND business_day = :day"
                " AND called_at IS NOT NULL) waits"
            ),
            {"b": branch_id, "q": queue, "day": day},
        )
    ).one()
    return WaitPercentiles(
        None if row.p50 is None else float(row.p50),
        None if row.p90 is None else float(row.p90),
        int(row.n),
    )


async def failed_notifications(conn: AsyncConnection, branch_id: int, day: date) -> int:
    """Telegram messages given up on today for this branch's tickets."""
    count = (
        await conn.execute(
            text(
                "SELECT count(*) FROM mensaje m JOIN ticket t ON t.reference = m.ticket_reference"
                " WHERE t.branch_id = :b AND t.business_day = :day AND m.state = :failed"
            ),
            {"b": branch_id, "day": day, "failed": MessageState.FAILED.value},
        )
    ).scalar_one()
    return int(count)


async def ticket_history(
    conn: AsyncConnection, reference: uuid.UUID
) -> tuple[HistoryTicket, list[HistoryEvent]] | None:
    """The ticket and its whole audit trail, oldest first (ties broken by insertion)."""
    row = (
        await conn.execute(
            text(
                "SELECT t.reference, t.number, t.queue, t.original_queue, b.name AS branch,"
                " t.status, t.business_day, t.arrived_at, t.called_at, t.service_started_at,"
                " t.completed_at, t.advisor_id, t.desk, t.recalls, t.transfers"
                " FROM ticket t JOIN branch b ON b.id = t.branch_id WHERE t.reference = :r"
            ),
            {"r": reference},
        )
    ).first()
    if row is None:
        return None
    ticket = HistoryTicket(
        row.reference,
        row.number,
        row.queue,
        row.original_queue,
        row.branch,
        row.status,
        row.business_day,
        row.arrived_at,
        row.called_at,
        row.service_started_at,
        row.completed_at,
        row.advisor_id,
        row.desk,
        int(row.recalls),
        int(row.transfers),
    )
    events = (
        await conn.execute(
            text(
                "SELECT at, action, from_status, to_status, actor, reason, advisor_id, details"
                " FROM ticket_event WHERE ticket_reference = :r ORDER BY at, id"
            ),
            {"r": reference},
        )
    ).all()
    return ticket, [
        HistoryEvent(
            e.at, e.action, e.from_status, e.to_status, e.actor, e.reason, e.advisor_id, e.details
        )
        for e in events
    ]


async def ticket_messages(conn: AsyncConnection, reference: uuid.UUID) -> list[HistoryMessage]:
    """The ticket's customer messages with their delivery state, oldest first."""
    rows = (
        await conn.execute(
            text(
                "SELECT type, channel, state, attempts, last_error, scheduled_at, sent_at,"
                " created_at FROM mensaje WHERE ticket_reference = :r ORDER BY created_at, id"
            ),
            {"r": reference},
        )
    ).all()
    return [
        HistoryMessage(
            r.type,
            r.channel,
            r.state,
            int(r.attempts),
            r.last_error,
            r.scheduled_at,
            r.sent_at,
            r.created_at,
        )
        for r in rows
    ]


async def tickets_by_number(
    conn: AsyncConnection, branch_id: int, number: str, day: date
) -> list[TicketMatch]:
    """The branch's tickets of `day` numbered `number` (numbers restart each day)."""
    rows = (
        await conn.execute(
            text(
                "SELECT reference, number, queue, status, business_day, arrived_at, called_at,"
                " service_started_at, completed_at, advisor_id, desk FROM ticket"
                " WHERE branch_id = :b AND business_day = :day AND number = :n"
                " ORDER BY arrived_at, reference"
            ),
            {"b": branch_id, "day": day, "n": number},
        )
    ).all()
    return [
        TicketMatch(
            r.reference,
            r.number,
            r.queue,
            r.status,
            r.business_day,
            r.arrived_at,
            r.called_at,
            r.service_started_at,
            r.completed_at,
            r.advisor_id,
            r.desk,
        )
        for r in rows
    ]


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


async def day_percentiles(
    conn: AsyncConnection, branch_id: int, day: date
) -> dict[str, DayPercentiles]:
    """Per queue, today's wait (arrival to call) and service (start to completion)
    percentiles; queues with nothing measured yet are absent."""
    rows = (
        await conn.execute(
            text(
                "SELECT queue,"
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY w) AS w50,"
                " percentile_cont(0.9) WITHIN GROUP (ORDER BY w) AS w90,"
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS s50,"
                " percentile_cont(0.9) WITHIN GROUP (ORDER BY s) AS s90"
                " FROM (SELECT queue, extract(epoch FROM called_at - arrived_at) AS w,"
                " CASE WHEN status = :completed THEN"
                " extract(epoch FROM completed_at - service_started_at) END AS s"
                " FROM ticket WHERE branch_id = :b AND business_day = :day"
                " AND called_at IS NOT NULL) m GROUP BY queue"
            ),
            {"b": branch_id, "day": day, "completed": TicketStatus.COMPLETED.value},
        )
    ).all()
    return {
        r.queue: DayPercentiles(_seconds(r.w50), _seconds(r.w90), _seconds(r.s50), _seconds(r.s90))
        for r in rows
    }
