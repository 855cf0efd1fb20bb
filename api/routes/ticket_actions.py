"""Transitions of one ticket: the customer cancels; the advisor starts, completes, etc.

Every answer is the ticket as the read model now shows it; a transition the
state machine forbids is a 409 naming the current state, and nothing changes.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.auth.deps import Principal
from api.auth.scope import TicketAdvisorDep, TicketStaffDep
from api.deps import ResourcesDep
from api.error_docs import errors
from api.errors import ApiError
from api.schemas.tickets import Reason, TicketResponse, TransferRequest
from api.services import lifecycle
from domain.contracts import Transition
from domain.states import TicketAction

#: Every transition: 409 when the state machine refuses it, 403 when the actor may not.
router = APIRouter(
    prefix="/api/tickets/{reference}", tags=["ticket lifecycle"], responses=errors(403, 409)
)


def _advisor(who: Principal) -> int:
    if who.advisor_id is None:
        raise ApiError(403, "auth.not_advisor")
    return who.advisor_id


async def _run(res: ResourcesDep, reference: uuid.UUID, request: Transition) -> TicketResponse:
    return TicketResponse.of(await lifecycle.transition(res, reference, request))


@router.post("/cancel", response_model=TicketResponse, response_model_by_alias=True)
async def cancel(
    reference: uuid.UUID, res: ResourcesDep, body: Reason | None = None
) -> TicketResponse:
    """The customer gives up their place (the reference is their proof of ownership)."""
    reason = body.reason if body else None
    return await _run(res, reference, Transition(action="CANCEL", actor="customer", reason=reason))


@router.post("/start", response_model=TicketResponse, response_model_by_alias=True)
async def start(reference: uuid.UUID, who: TicketAdvisorDep, res: ResourcesDep) -> TicketResponse:
    advisor = _advisor(who)
    return await _run(
        res, reference, Transition(action="START", actor=f"advisor:{advisor}", advisor_id=advisor)
    )


@router.post("/complete", response_model=TicketResponse, response_model_by_alias=True)
async def complete(
    reference: uuid.UUID, who: TicketAdvisorDep, res: ResourcesDep
) -> TicketResponse:
    advisor = _advisor(who)
    return await _run(
        res,
        reference,
        Transition(action="COMPLETE", actor=f"advisor:{advisor}", advisor_id=advisor),
    )


@router.post("/no-show", response_model=TicketResponse, response_model_by_alias=True)
async def no_show(reference: uuid.UUID, who: TicketAdvisorDep, res: ResourcesDep) -> TicketResponse:
    advisor = _advisor(who)
    return await _run(
        res,
        reference,
        Transition(
            action=TicketAction.NO_SHOW,
            actor=f"advisor:{advisor}",
            advisor_id=advisor,
            reason="marked by the advisor",
        ),
    )


@router.post("/recall", response_model=TicketResponse, response_model_by_alias=True)
async def recall(reference: uuid.UUID, who: TicketAdvisorDep, res: ResourcesDep) -> TicketResponse:
    """Announce a called ticket again, or call a no-show back (once)."""
    advisor = _advisor(who)
    view = await lifecycle.recall(res, reference, advisor, f"advisor:{advisor}")
    return TicketResponse.of(view)


@router.post("/transfer", response_model=TicketResponse, response_model_by_alias=True)
async def transfer(
    reference: uuid.UUID, body: TransferRequest, who: TicketStaffDep, res: ResourcesDep
) -> TicketResponse:
    """Move the ticket to another queue; it keeps its arrival time (and so its place)."""
    if who.role == "advisor":
        actor, advisor = f"advisor:{_advisor(who)}", who.advisor_id
    elif who.role == "supervisor":
        actor, advisor = f"supervisor:{who.username}", None
    else:
        raise ApiError(403, "auth.requires_role", params={"roles": "advisor / supervisor"})
    return await _run(
        res,
        reference,
        Transition(
            action="TRANSFER",
            actor=actor,
            advisor_id=advisor,
            target_queue=body.queue.value,
            reason=body.reason,
        ),
    )
