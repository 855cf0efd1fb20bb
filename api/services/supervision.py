"""Supervisor use cases: watch a branch (dashboard, lines, advisors, alerts, history)
and manage it (opening hours, queue settings, advisors).

Reads go straight to the read model; nothing here talks to Temporal. Messages
are Spanish (Chile) because supervisors read them as they are.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth.users import create_user
from api.errors import ApiError
from api.resources import Resources
from api.schemas.management import AdvisorLogin
from db import advisors as advisor_store
from db import supervision as store
from db.supervision import as_minutes
from db.tickets import ensure_branch
from db.users import UserExists
from domain.alerts import AdvisorSnapshot, Alert, QueueSnapshot, evaluate_alerts
from domain.alerts import within_opening_hours as branch_open
from domain.estimate import estimate_wait
from domain.numbering import business_day
from domain.queues import parse_queue

ADVISOR_STATUSES = ("AVAILABLE", "BUSY", "BREAK", "OFFLINE")


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


# --- helpers ----------------------------------------------------------------------------


def branch_key(raw: str) -> str:
    """A branch name as typed in a URL: spaces collapsed, like ticket creation stores it."""
    return " ".join(raw.split())


async def _branch(conn: AsyncConnection, name: str) -> store.BranchSettingsRow:
    branch = await store.find_branch(conn, branch_key(name))
    if branch is None:
        raise ApiError(404, f"Sucursal no encontrada: {branch_key(name)!r}")
    return branch


def _queue(branch: store.BranchSettingsRow, raw: str) -> store.QueueSettingsRow:
    try:
        name = parse_queue(raw).value
    except ValueError:
        name = None
    for queue in branch.queues:
        if queue.queue == name:
            return queue
    raise ApiError(404, f"Cola no encontrada en la sucursal {branch.name}: {raw[:40]!r}")


def _today(branch: store.BranchSettingsRow, now: datetime) -> date:
    return business_day(now, branch.time_zone)


# --- watching ---------------------------------------------------------------------------


async def dashboard(res: Resources, name: str) -> Dashboard:
    """The branch at a glance: each line, who serves it, and today's throughput."""
    now = datetime.now(UTC)
    async with res.engine.connect() as conn:
        branch = await _branch(conn, name)
        day = _today(branch, now)
        figures = await store.queue_figures(conn, branch.id, day, now)
        people = await advisor_store.branch_day(conn, branch.id, day)
    by_status = dict.fromkeys(ADVISOR_STATUSES, 0)
    for person in people:
        by_status[person.status] = by_status.get(person.status, 0) + 1
    totals = Totals(
        waiting=sum(q.waiting for q in figures),
        being_served=sum(q.being_served for q in figures),
        completed_today=sum(q.completed_today for q in figures),
        advisors=len(people),
        serving_advisors=by_status["AVAILABLE"] + by_status["BUSY"],
    )
    return Dashboard(
        branch_office=branch.name,
        time_zone=branch.time_zone,
        business_day=day,
        open_now=branch_open(now, branch.time_zone, branch.opens_at, branch.closes_at),
        generated_at=now,
        queues=figures,
        advisors=by_status,
        totals=totals,
    )


async def queue_stats(res: Resources, name: str, queue_name: str) -> QueueStats:
    """One queue in detail: the line in calling order, today's outcomes and a newcomer's wait."""
    now = datetime.now(UTC)
    async with res.engine.connect() as conn:
        branch = await _branch(conn, name)
        queue = _queue(branch, queue_name).queue
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
        branch = await _branch(conn, name)
        return await advisor_store.branch_day(conn, branch.id, _today(branch, now))


async def alerts(res: Resources, name: str) -> AlertReport:
    """The alert rules over a fresh snapshot of the branch."""
    now = datetime.now(UTC)
    async with res.engine.connect() as conn:
        branch = await _branch(conn, name)
        day = _today(branch, now)
        figures = await store.queue_figures(conn, branch.id, day, now)
        people = await advisor_store.branch_day(conn, branch.id, day)
        failed = await store.failed_notifications(conn, branch.id, day)
    open_now = branch_open(now, branch.time_zone, branch.opens_at, branch.closes_at)
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
    async with res.engine.connect() as conn:
        found = await store.ticket_history(conn, reference)
    if found is None:
        raise ApiError(404, f"Turno no encontrado: {reference}")
    return History(*found)


# --- branch settings --------------------------------------------------------------------


async def list_branches(res: Resources) -> list[store.BranchSettingsRow]:
    async with res.engine.connect() as conn:
        return await store.list_branches(conn)


async def get_branch(res: Resources, name: str) -> store.BranchSettingsRow:
    async with res.engine.connect() as conn:
        return await _branch(conn, name)


async def edit_branch(
    res: Resources, name: str, changes: dict[str, Any]
) -> store.BranchSettingsRow:
    """Time zone and opening hours; the resulting hours must open before they close."""
    async with res.engine.begin() as conn:
        branch = await _branch(conn, name)
        opens: time = changes.get("opens_at", branch.opens_at)
        closes: time = changes.get("closes_at", branch.closes_at)
        if opens >= closes:
            field_name = "closesAt" if "closes_at" in changes else "opensAt"
            raise ApiError(
                422,
                "la hora de apertura debe ser anterior a la de cierre"
                f" ({opens:%H:%M} - {closes:%H:%M})",
                field=field_name,
            )
        await store.update_branch(conn, branch.id, changes)
        return await _branch(conn, branch.name)


async def edit_queue(
    res: Resources, name: str, queue_name: str, changes: dict[str, Any]
) -> store.BranchSettingsRow:
    """Queue settings; a new average service time restarts the moving average from it."""
    if "avg_service_seconds" in changes:
        changes = {**changes, "service_samples": 0}
    async with res.engine.begin() as conn:
        branch = await _branch(conn, name)
        queue = _queue(branch, queue_name)
        await store.update_queue(conn, branch.id, queue.queue, changes)
        return await _branch(conn, branch.name)


# --- advisors ---------------------------------------------------------------------------


async def create_advisor(
    res: Resources, branch_office: str, new: advisor_store.NewAdvisor, login: AdvisorLogin | None
) -> advisor_store.AdvisorRow:
    """Register an advisor (OFFLINE) and, when asked, their user; the branch may be new."""
    async with res.engine.begin() as conn:
        branch = await ensure_branch(conn, branch_office, res.settings.default_time_zone)
        if await advisor_store.email_taken(conn, new.email):
            raise ApiError(409, f"Ya existe un ejecutivo con el correo {new.email}", field="email")
        if await advisor_store.desk_taken(conn, branch.id, new.desk):
            raise _desk_taken(new.desk, branch.name)
        if login is not None and await advisor_store.username_taken(conn, login.username):
            raise _username_taken(login.username)
        try:
            async with conn.begin_nested():
                advisor_id = await advisor_store.insert_advisor(conn, branch.id, new)
        except IntegrityError as err:
            raise _conflict(err, new.desk, branch.name) from None
    if login is not None:
        try:
            await create_user(res.engine, login.username, login.password, "advisor", advisor_id)
        except UserExists:
            async with res.engine.begin() as conn:
                await advisor_store.delete_advisor(conn, advisor_id)
            raise _username_taken(login.username) from None
    return await get_advisor(res, advisor_id)


async def get_advisor(res: Resources, advisor_id: int) -> advisor_store.AdvisorRow:
    async with res.engine.connect() as conn:
        advisor = await advisor_store.get_advisor(conn, advisor_id)
    if advisor is None:
        raise ApiError(404, f"Ejecutivo no encontrado: {advisor_id}")
    return advisor


async def list_advisors(
    res: Resources, branch_office: str | None
) -> list[advisor_store.AdvisorRow]:
    async with res.engine.connect() as conn:
        branch_id = None if branch_office is None else (await _branch(conn, branch_office)).id
        return await advisor_store.list_advisors(conn, branch_id)


async def edit_advisor(
    res: Resources,
    advisor_id: int,
    *,
    name: str | None = None,
    desk: int | None = None,
    queues: list[str] | None = None,
    active: bool | None = None,
) -> advisor_store.AdvisorRow:
    """Rename, move, re-skill or (de)activate; an advisor holding a ticket stays active."""
    async with res.engine.begin() as conn:
        advisor = await advisor_store.lock_advisor(conn, advisor_id)
        if advisor is None:
            raise ApiError(404, f"Ejecutivo no encontrado: {advisor_id}")
        if active is False and advisor.current_ticket is not None:
            raise ApiError(
                409,
                "El ejecutivo tiene un turno en curso; debe terminarlo antes de desactivarlo",
                field="active",
            )
        will_be_active = advisor.active if active is None else active
        new_desk = advisor.desk if desk is None else desk
        moved = new_desk != advisor.desk or (will_be_active and not advisor.active)
        if (
            will_be_active
            and moved
            and await advisor_store.desk_taken(
                conn, advisor.branch_id, new_desk, except_id=advisor.id
            )
        ):
            raise _desk_taken(new_desk, None)
        try:
            async with conn.begin_nested():
                await advisor_store.update_advisor(
                    conn,
                    advisor.id,
                    name=name,
                    desk=desk,
                    queues=queues,
                    active=active,
                    now=datetime.now(UTC),
                )
        except IntegrityError as err:
            raise _conflict(err, new_desk, None) from None
    return await get_advisor(res, advisor_id)


def _desk_taken(desk: int, branch: str | None) -> ApiError:
    where = f" de la sucursal {branch}" if branch else ""
    return ApiError(
        409, f"El módulo {desk}{where} ya está asignado a otro ejecutivo activo", field="desk"
    )


def _username_taken(username: str) -> ApiError:
    return ApiError(409, f"El nombre de usuario {username!r} ya existe", field="username")


def _conflict(err: IntegrityError, desk: int, branch: str | None) -> ApiError:
    """A concurrent request won a unique index: the same 409 the checks give."""
    found = advisor_store.conflicting_field(err)
    if found == "email":
        return ApiError(409, "Ya existe un ejecutivo con ese correo", field="email")
    if found == "desk":
        return _desk_taken(desk, branch)
    raise err
