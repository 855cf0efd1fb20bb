"""What a supervisor watches: a branch's dashboard, each line, its advisors, its alerts,
and any ticket's audit trail. Read-only; the branch is addressed by its name.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.auth.scope import BranchStaffDep, BranchSupervisorDep, TicketRefDep, TicketStaffDep
from api.deps import ResourcesDep
from api.pagination import PageDep
from api.schemas.supervision import (
    AdvisorDayOut,
    AlertsOut,
    DashboardOut,
    HistoryOut,
    QueueStatsOut,
    TicketSearchOut,
)
from api.services import supervision as service

router = APIRouter(tags=["supervision"])


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
    reference: TicketRefDep, who: TicketStaffDep, res: ResourcesDep, page: PageDep
) -> HistoryOut:
    """The ticket (by reference, or today's number) and the transitions it went through,
    oldest first (paged)."""
    found = HistoryOut.model_validate(await service.history(res, reference))
    return found.model_copy(update={"events": page.slice(found.events)})


@router.get("/api/branches/{branch}/tickets", response_model=TicketSearchOut)
async def find_tickets(
    branch: str,
    who: BranchStaffDep,
    res: ResourcesDep,
    number: Annotated[
        str, Query(min_length=1, max_length=12, description="as typed: C06, c6, C-06")
    ],
    day: Annotated[date | None, Query(description="business day; the branch's today")] = None,
) -> TicketSearchOut:
    """A ticket by its number within the branch and business day (staff of the branch)."""
    return TicketSearchOut.model_validate(await service.find_tickets(res, branch, number, day))
