"""What a supervisor watches: a branch's dashboard, each line, its advisors, its alerts,
and any ticket's audit trail. Read-only; the branch is addressed by its name.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.auth.deps import StaffDep, SupervisorDep
from api.deps import ResourcesDep
from api.schemas.supervision import (
    AdvisorDayOut,
    AlertsOut,
    DashboardOut,
    HistoryOut,
    QueueStatsOut,
)
from api.services import supervision as service

router = APIRouter(tags=["supervision"])


@router.get("/api/branches/{branch}/dashboard", response_model=DashboardOut)
async def dashboard(branch: str, who: SupervisorDep, res: ResourcesDep) -> DashboardOut:
    """Per queue: waiting, being served, completed today, waits and staffing."""
    return DashboardOut.model_validate(await service.dashboard(res, branch))


@router.get("/api/branches/{branch}/queues/{queue}/stats", response_model=QueueStatsOut)
async def queue_stats(
    branch: str, queue: str, who: SupervisorDep, res: ResourcesDep
) -> QueueStatsOut:
    """The line in calling order, today's outcomes and wait percentiles, a newcomer's wait."""
    return QueueStatsOut.model_validate(await service.queue_stats(res, branch, queue))


@router.get("/api/branches/{branch}/advisors", response_model=list[AdvisorDayOut])
async def advisors(branch: str, who: SupervisorDep, res: ResourcesDep) -> list[AdvisorDayOut]:
    """Active advisors by desk: status, ticket in hand and today's services."""
    return [AdvisorDayOut.model_validate(a) for a in await service.branch_advisors(res, branch)]


@router.get("/api/branches/{branch}/alerts", response_model=AlertsOut)
async def alerts(branch: str, who: SupervisorDep, res: ResourcesDep) -> AlertsOut:
    """Situations that need a person now, most urgent first."""
    return AlertsOut.model_validate(await service.alerts(res, branch))


@router.get("/api/tickets/{reference}/history", response_model=HistoryOut)
async def history(reference: uuid.UUID, who: StaffDep, res: ResourcesDep) -> HistoryOut:
    """The ticket and every transition it went through, oldest first."""
    return HistoryOut.model_validate(await service.history(res, reference))
