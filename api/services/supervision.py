"""Supervisor use cases: watch a branch (dashboard, lines, advisors, alerts, history).
Managing it (opening hours, queue settings, advisors) is in `api.services.management`.

Reads go straight to the read model; nothing here talks to Temporal. Messages
are Spanish (Chile) because supervisors read them as they are.

Long because each supervisor view assembles several read-model figures; they share the
branch lookup and business-day helpers.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from api.errors import ApiError
from api.resources import Resources
from db import advisors as advisor_store
from db import hours as hours_store
from db import supervision as store
from db.supervision import as_minutes
from domain.alerts import AdvisorSnapshot, Alert, QueueSnapshot, evaluate_alerts
from domain.estimate import estimate_wait
from domain.hours import is_open
from domain.numbering import business_day, format_ticket_number
from domain.queues import parse_queue
from domain.states import SERVING_ADVISOR_STATUSES, AdvisorStatus

ADVISOR_STATUSES = tuple(s.value for s in AdvisorStatus)


# --- views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    waiting: int
    being_served: int
    completed_today: int
    advisors: int
    serving_advisors: int


@dataclass(frozen=True)
class Dashboard:
    branch_office: str
    time_zone: str
    business_day: date
    open_now: bool
    generated_at: datetime
    queues: list[store.QueueFigures]
    advisors: dict[str, int]
    totals: Totals


@dataclass(frozen=True)
class LinePlace:
    number: str
    status: str
    position: int
    waited_minutes: int
    arrived_at: datetime


@dataclass(frozen=True)
class DayCounts:
    waiting: int
    being_served: int
    completed: int
    cancelled: int
    no_show: int
    expired: int


@dataclass(frozen=True)
class WaitSummary:
    """Arrival-to-call minutes of the tickets called today."""

    p50: float | None
    p90: float | None
    samples: int


@dataclass(frozen=True)
class ServiceSummary:
    """The moving average the estimates use, and how many services shaped it."""

    average_minutes: float
    samples: int


@dataclass(frozen=True)
class NewcomerEstimate:
    tickets_ahead: int
    minutes: int
    low: int
    high: int
    serving_advisors: int
    idle_advisors: int


@dataclass(frozen=True)
class QueueStats:
    branch_office: str
    queue: str
    business_day: date
    generated_at: datetime
    line: list[LinePlace]
    today: DayCounts
    wait_minutes: WaitSummary
    service: ServiceSummary
    estimate: NewcomerEstimate


@dataclass(frozen=True)
class AlertReport:
    branch_office: str
    within_opening_hours: bool
    evaluated_at: datetime
    alerts: list[Alert] = field(default_factory=list)


@dataclass(frozen=True)
class History:
    ticket: store.HistoryTicket
    events: list[store.HistoryEvent]
    messages: list[store.HistoryMessage] = field(default_factory=list)


@dataclass(frozen=True)
class TicketSearch:
    branch_office: str
    business_day: date
    number: str
    matches: list[store.TicketMatch]


# --- helpers ----------------------------------------------------------------------------


def branch_key(raw: str) -> str:
    """A branch name as typed in a URL: spaces collapsed, like ticket creation stores it."""
    return " ".join(raw.split())


async def branch_settings(conn: AsyncConnection, name: str) -> store.BranchSettingsRow:
    """The branch by its name as typed in a URL; 404 when there is none."""
    branch = await store.find_branch(conn, branch_key(name))
    if branch is None:
        raise ApiError(404, "branch.not_found", params={"branch": repr(branch_key(name))})
    return branch


def queue_settings(branch: store.BranchSettingsRow, raw: str) -> store.QueueSettingsRow:
    """One of the branch's queues by any accepted spelling; 404 when it has none such."""
    try:
        name = parse_queue(raw).value
    except ValueError:
        name = None
    for queue in branch.queues:
        if queue.queue == name:
            return queue
    raise ApiError(404, "queue.not_found", params={"branch": branch.name, "queue": repr(raw[:40])})


async def _open_now(conn: AsyncConnection, branch_id: int, now: datetime) -> bool:
    """Within the branch's weekly hours, not a holiday (or open at all hours)."""
    found = await hours_store.hours_of(conn, branch_id)
    return found is not None and is_open(found.schedule, now)


def _today(branch: store.BranchSettingsRow, now: datetime) -> date:
    return business_day(now, branch.time_zone)


# --- watching ---------------------------------------------------------------------------


async def dashboard(res: Resources, name: str) -> Dashboard:
    """The branch at a glance: each line, who serves it, and today's throughput."""
    now = datetime.now(UTC)
    async with res.engine.connect() as conn:
        branch = await branch_settings(conn, name)
        day = _today(branch, now)
        figures = await store.queue_figures(conn, branch.id, day, now)
        percentiles = await store.day_percentiles(conn, branch.id, day)
        people = await advisor_store.branch_day(conn, branch.id, day)
        open_now = await _open_now(conn, branch.id, now)
    figures = [replace(f, day=percentiles.get(f.queue)) for f in figures]
    by_status = dict.fromkeys(ADVISOR_STATUSES, 0)
    for person in people:
        by_status[person.status] = by_status.get(person.status, 0) + 1
    totals = Totals(
        waiting=sum(q.waiting for q in figures),
        being_served=sum(q.being_served for q in figures),
        completed_today=sum(q.completed_today for q in figures),
        advisors=len(people),
        serving_advisors=sum(by_status[s.value] for s in SERVING_ADVISOR_STATUSES),
    )
    return Dashboard(
        branch_office=branch.name,
        time_zone=branch.time_zone,
        business_day=day,
        open_now=open_now,
        generated_at=now,
        queues=figures,
        advisors=by_status,
        totals=totals,
    )


async def queue_stats(res: Resources, name: str, queue_name: str) -> QueueStats:
    """One queue in detail: the line in calling order, today's outcomes and a newcomer's wait."""
    now = datetime.now(UTC)
    async with res.engine.connect() as conn:
        branch = await branch_settings(conn, name)
        queue = queue_settings(branch, queue_name).queue
        day = _today(branch, now)
        (figures,) = await store.queue_figures(conn, branch.id, day, now, queue)
        line = await store.waiting_line(conn, branch.id, queue)
        outcomes = await store.day_outcomes(conn, branch.id, queue, day)
        waits = await store.wait_percentiles(conn, branch.id, queue, day)
    places = [
        LinePlace(
            number=entry.number,
            status=entry.status,
            position=index,
            waited_minutes=max(math.floor((now - entry.arrived_at).total_seconds() / 60), 0),
            arrived_at=entry.arrived_at,
        )
        for index, entry in enumerate(line, start=1)
    ]
    guess = estimate_wait(
        len(line),
        figures.avg_service_seconds,
        servers=figures.serving_advisors,
        idle_servers=figures.idle_advisors,
    )
    return QueueStats(
        branch_office=branch.name,
        queue=queue,
        business_day=day,
        generated_at=now,
        line=places,
        today=DayCounts(
            waiting=len(line),
            being_served=figures.being_served,
            completed=outcomes.completed,
            cancelled=outcomes.cancelled,
            no_show=outcomes.no_show,
            expired=outcomes.expired,
        ),
        wait_minutes=WaitSummary(
            as_minutes(waits.p50_seconds), as_minutes(waits.p90_seconds), waits.samples
        ),
        service=ServiceSummary(figures.average_service_minutes, figures.service_samples),
        estimate=NewcomerEstimate(
            tickets_ahead=len(line),
            minutes=guess.minutes,
            low=guess.low_minutes,
            high=guess.high_minutes,
            serving_advisors=figures.serving_advisors,
            idle_advisors=figures.idle_advisors,
        ),
    )


async def branch_advisors(res: Resources, name: str) -> list[advisor_store.AdvisorDay]:
    """Active advisors by desk with their ticket in hand and today's services."""
    now = datetime.now(UTC)
    async with res.engine.connect() as conn:
        branch = await branch_settings(conn, name)
        return await advisor_store.branch_day(conn, branch.id, _today(branch, now))


async def alerts(res: Resources, name: str) -> AlertReport:
    """The alert rules over a fresh snapshot of the branch."""
    now = datetime.now(UTC)
    async with res.engine.connect() as conn:
        branch = await branch_settings(conn, name)
        day = _today(branch, now)
        figures = await store.queue_figures(conn, branch.id, day, now)
        people = await advisor_store.branch_day(conn, branch.id, day)
        failed = await store.failed_notifications(conn, branch.id, day)
        open_now = await _open_now(conn, branch.id, now)
    found = evaluate_alerts(
        [
            QueueSnapshot(
                queue=f.queue,
                waiting=f.waiting,
                oldest_wait_seconds=f.oldest_wait_seconds,
                oldest_number=f.oldest_number,
                serving_advisors=f.serving_advisors,
            )
            for f in figures
        ],
        [AdvisorSnapshot(p.id, p.name, p.status, p.status_since) for p in people],
        failed_notifications=failed,
        now=now,
        within_opening_hours=open_now,
    )
    return AlertReport(branch.name, open_now, now, found)


async def history(res: Resources, reference: uuid.UUID) -> History:
    """The ticket, its transitions and its customer messages with their delivery state."""
    async with res.engine.connect() as conn:
        found = await store.ticket_history(conn, reference)
        messages = await store.ticket_messages(conn, reference) if found else []
    if found is None:
        raise ApiError(404, "ticket.not_found", params={"reference": reference})
    return History(*found, messages=messages)


_TYPED_NUMBER = re.compile(r"([A-Z]{1,3})[\s-]*0*([0-9]{1,6})")


def typed_number(raw: str) -> str:
    """A ticket number as staff type it (``c6``, ``C-06``) in its canonical form (``C06``)."""
    match = _TYPED_NUMBER.fullmatch(raw.strip().upper())
    if match is None or int(match[2]) < 1:
        raise ApiError(422, "ticket.number_invalid", field="number")
    return format_ticket_number(match[1], int(match[2]))


async def find_tickets(
    res: Resources, name: str, number: str, day: date | None = None
) -> TicketSearch:
    """The branch's tickets numbered `number` on `day` (the branch's today by default)."""
    canonical = typed_number(number)
    async with res.engine.connect() as conn:
        branch = await branch_settings(conn, name)
        when = day or _today(branch, datetime.now(UTC))
        matches = await store.tickets_by_number(conn, branch.id, canonical, when)
    return TicketSearch(branch.name, when, canonical, matches)
