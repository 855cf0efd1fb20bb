"""What a supervisor watches: a branch's dashboard, each line, its advisors, its alerts,
and any ticket's audit trail. Read-only; the branch is addressed by its name.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from api.auth.scope import BranchSupervisorDep, TicketStaffDep
from api.deps import ResourcesDep
from api.pagination import PageDep
from api.services import supervision as service
from domain.alerts import AlertKind, Severity

router = APIRouter(tags=["supervision"])

#: A local wall-clock time as supervisors write it (``09:00``).
HourMinute = Annotated[time, PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)]


class CamelModel(BaseModel):
    """camelCase on the wire, built from the service's dataclasses."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class QueueLineOut(CamelModel):
    queue: str
    waiting: int
    being_served: int
    completed_today: int
    average_wait_minutes: float | None
    longest_wait_minutes: float | None
    serving_advisors: int
    average_service_minutes: float
    service_samples: int


class TotalsOut(CamelModel):
    waiting: int
    being_served: int
    completed_today: int
    advisors: int
    serving_advisors: int


class DashboardOut(CamelModel):
    branch_office: str
    time_zone: str
    business_day: date
    open_now: bool
    generated_at: datetime
    queues: list[QueueLineOut]
    advisors: dict[str, int]
    totals: TotalsOut


class LinePlaceOut(CamelModel):
    number: str
    status: str
    position: int
    waited_minutes: int
    arrived_at: datetime


class DayCountsOut(CamelModel):
    waiting: int
    being_served: int
    completed: int
    cancelled: int
    no_show: int
    expired: int


class WaitSummaryOut(CamelModel):
    p50: float | None
    p90: float | None
    samples: int


class ServiceSummaryOut(CamelModel):
    average_minutes: float
    samples: int


class EstimateOut(CamelModel):
    tickets_ahead: int
    minutes: int
    low: int
    high: int
    serving_advisors: int
    idle_advisors: int


class QueueStatsOut(CamelModel):
    branch_office: str
    queue: str
    business_day: date
    generated_at: datetime
    line: list[LinePlaceOut]
    today: DayCountsOut
    wait_minutes: WaitSummaryOut
    service: ServiceSummaryOut
    estimate: EstimateOut


class AdvisorDayOut(CamelModel):
    id: int
    name: str
    desk: int
    queues: list[str]
    status: str
    status_since: datetime
    idle_since: datetime | None
    current_ticket_number: str | None
    current_ticket_status: str | None
    served_today: int
    average_service_minutes_today: float | None


class AlertOut(CamelModel):
    kind: AlertKind
    severity: Severity
    message: str
    queue: str | None
    ticket_number: str | None
    advisor_id: int | None
    value: float | None


class AlertsOut(CamelModel):
    branch_office: str
    within_opening_hours: bool
    evaluated_at: datetime
    alerts: list[AlertOut]


class HistoryTicketOut(CamelModel):
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


class HistoryEventOut(CamelModel):
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    advisor_id: int | None
    details: dict[str, object] | None


class HistoryOut(CamelModel):
    ticket: HistoryTicketOut
    events: list[HistoryEventOut]


@router.get("/api/branches/{branch}/dashboard", response_model=DashboardOut)
async def dashboard(branch: str, who: BranchSupervisorDep, res: ResourcesDep) -> DashboardOut:
    """Per queue: waiting, being served, completed today, waits and staffing."""
    return DashboardOut.model_validate(await service.dashboard(res, branch))


@router.get("/api/branches/{branch}/queues/{queue}/stats", response_model=QueueStatsOut)
async def queue_stats(
    branch: str, queue: str, who: BranchSupervisorDep, res: ResourcesDep, page: PageDep
) -> QueueStatsOut:
    """The line in calling order (paged), today's outcomes and wait percentiles, a
    newcomer's wait."""
    stats = QueueStatsOut.model_validate(await service.queue_stats(res, branch, queue))
    return stats.model_copy(update={"line": page.slice(stats.line)})


@router.get("/api/branches/{branch}/advisors", response_model=list[AdvisorDayOut])
async def advisors(
    branch: str, who: BranchSupervisorDep, res: ResourcesDep, page: PageDep
) -> list[AdvisorDayOut]:
    """Active advisors by desk (paged): status, ticket in hand and today's services."""
    found = page.slice(await service.branch_advisors(res, branch))
    return [AdvisorDayOut.model_validate(a) for a in found]


@router.get("/api/branches/{branch}/alerts", response_model=AlertsOut)
async def alerts(
    branch: str, who: BranchSupervisorDep, res: ResourcesDep, page: PageDep
) -> AlertsOut:
    """Situations that need a person now, most urgent first (paged)."""
    report = AlertsOut.model_validate(await service.alerts(res, branch))
    return report.model_copy(update={"alerts": page.slice(report.alerts)})


@router.get("/api/tickets/{reference}/history", response_model=HistoryOut)
async def history(
    reference: uuid.UUID, who: TicketStaffDep, res: ResourcesDep, page: PageDep
) -> HistoryOut:
    """The ticket and the transitions it went through, oldest first (paged)."""
    found = HistoryOut.model_validate(await service.history(res, reference))
    return found.model_copy(update={"events": page.slice(found.events)})
