"""The advisor's desk: own status, call next, and the ticket in hand."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth.deps import AdvisorDep, Principal
from api.deps import ResourcesDep
from api.error_docs import errors
from api.errors import ApiError
from api.schemas.advisors import AfterTicketChange, DeskView, StatusChange
from api.services import advisor_desk as service

router = APIRouter(prefix="/api/advisors/me", tags=["advisor desk"], responses=errors(404, 409))


def _advisor_id(who: Principal) -> int:
    if who.advisor_id is None:
        raise ApiError(403, "auth.not_advisor")
    return who.advisor_id


@router.get("", response_model=DeskView, response_model_by_alias=True)
async def me(who: AdvisorDep, res: ResourcesDep) -> DeskView:
    return await service.desk(res, _advisor_id(who))


@router.put("/status", response_model=DeskView, response_model_by_alias=True)
async def set_status(body: StatusChange, who: AdvisorDep, res: ResourcesDep) -> DeskView:
    """AVAILABLE also takes the best waiting ticket at once (automatic assignment).

    BREAK or OFFLINE while a ticket is in hand is queued: 200 with `pendingStatus` set,
    taken when that ticket is completed, marked no-show or transferred."""
    return await service.set_status(res, _advisor_id(who), body.status)


@router.post("/call-next", response_model=DeskView, response_model_by_alias=True)
async def call_next(who: AdvisorDep, res: ResourcesDep) -> DeskView:
    """Take the next ticket by the branch's rule; 409 while another is in hand."""
    return await service.call_next(res, _advisor_id(who))


@router.put("/after-ticket", response_model=DeskView, response_model_by_alias=True)
async def pause_after_ticket(
    body: AfterTicketChange, who: AdvisorDep, res: ResourcesDep
) -> DeskView:
    """ "Pause after this ticket": BREAK or OFFLINE when the ticket in hand is completed,
    marked no-show or transferred, instead of being called next; at once with none."""
    return await service.set_after_ticket(res, _advisor_id(who), body.status.value)


@router.delete("/after-ticket", response_model=DeskView, response_model_by_alias=True)
async def cancel_pause_after_ticket(who: AdvisorDep, res: ResourcesDep) -> DeskView:
    """Keep working after the ticket in hand (cancels a pending pause)."""
    return await service.set_after_ticket(res, _advisor_id(who), None)
