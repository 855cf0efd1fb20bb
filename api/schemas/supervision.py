"""What a supervisor watches: a branch's dashboard, each line, its advisors, its alerts,
and any ticket's audit trail (response bodies; built from the service's dataclasses)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from api.schemas.common import CamelModel
from domain.alerts import AlertKind, Severity
from domain.states import AdvisorStatus, MessageState, TicketStatus


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
    wait_p50_minutes: float | None = None
    wait_p90_minutes: float | None = None
    service_p50_minutes: float | None = None
    service_p90_minutes: float | None = None


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
    status: TicketStatus
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
    status: AdvisorStatus
    status_since: datetime
    idle_since: datetime | None
    current_ticket_number: str | None
    current_ticket_status: TicketStatus | None
    pending_status: AdvisorStatus | None = None
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
    status: TicketStatus
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
    from_status: TicketStatus | None
    to_status: TicketStatus
    actor: str
    reason: str | None
    advisor_id: int | None
    details: dict[str, object] | None


class HistoryMessageOut(CamelModel):
    """A customer message: PENDING until delivered (SENT) or given up on (FAILED)."""

    type: str
    channel: str
    state: MessageState
    attempts: int
    last_error: str | None
    scheduled_at: datetime
    sent_at: datetime | None
    created_at: datetime


class HistoryOut(CamelModel):
    ticket: HistoryTicketOut
    events: list[HistoryEventOut]
    messages: list[HistoryMessageOut]


class TicketMatchOut(CamelModel):
    reference: uuid.UUID
    number: str
    queue: str
    status: TicketStatus
    business_day: date
    arrived_at: datetime
    called_at: datetime | None
    service_started_at: datetime | None
    completed_at: datetime | None
    advisor_id: int | None
    desk: int | None


class TicketSearchOut(CamelModel):
    branch_office: str
    business_day: date
    number: str
    matches: list[TicketMatchOut]
