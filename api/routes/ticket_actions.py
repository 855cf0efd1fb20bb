"""Transitions of one ticket: the customer cancels; the advisor starts, completes, etc.

Every answer is the ticket as the read model now shows it; a transition the
state machine forbids is a 409 naming the current state, and nothing changes.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header

from api.auth.deps import Principal
from api.auth.scope import TicketAdvisorDep, TicketRefDep, TicketStaffDep
from api.deps import ResourcesDep
from api.error_docs import errors
from api.errors import ApiError
from api.schemas.tickets import Reason, TicketResponse, TransferRequest
from api.services import lifecycle
from api.services import recall as recall_service
from api.services import transfer as transfer_service
from domain.contracts import Transition
from domain.states import TicketAction

#: A retried action with the same key is the same update (no second RECALL); optional.
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]
#: Every transition: 409 when the state machine refuses it, 403 when the actor may not.
router = APIRouter(
    prefix="/api/tickets/{reference}", tags=["ticket lifecycle"], responses=errors(403, 409)
)


def _advisor(who: Principal) -> int:
    if who.advisor_id is None:
        raise ApiError(403, "auth.not_advisor")
    return who.advisor_id


async def _run(
    res: ResourcesDep, reference: uuid.UUID, request: Transition, key: str | None = None
) -> TicketResponse:
    return TicketResponse.of(await lifecycle.transition(res, reference, request, key))


@router.post("/cancel", response_model=TicketResponse, response_model_by_alias=True)
async def cancel(
    reference: uuid.UUID, res: ResourcesDep, key: IdempotencyKey = None, body: Reason | None = None
) -> TicketResponse:
    """The customer gives up their place (the reference is their proof of ownership)."""
    reason = body.reason if body else None
    request = Transition(action="CANCEL", actor="customer", reason=reason)
    return await _run(res, reference, request, key)


@router.post("/start", response_model=TicketResponse, response_model_by_alias=True)
async def start(
    reference: TicketRefDep, who: TicketAdvisorDep, res: ResourcesDep, key: IdempotencyKey = None
) -> TicketResponse:
    advisor = _advisor(who)
    request = Transition(action="START", actor=f"advisor:{advisor}", advisor_id=advisor)
    return await _run(res, reference, request, key)


@router.post("/complete", response_model=TicketResponse, response_model_by_alias=True)
async def complete(
    reference: TicketRefDep, who: TicketAdvisorDep, res: ResourcesDep, key: IdempotencyKey = None
) -> TicketResponse:
    advisor = _advisor(who)
    request = Transition(action="COMPLETE", actor=f"advisor:{advisor}", advisor_id=advisor)
    return await _run(res, reference, request, key)


@router.post("/no-show", response_model=TicketResponse, response_model_by_alias=True)
async def no_show(
    reference: TicketRefDep, who: TicketAdvisorDep, res: ResourcesDep, key: IdempotencyKey = None
) -> TicketResponse:
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
        key,
    )


@router.post("/recall", response_model=TicketResponse, response_model_by_alias=True)
async def recall(
    reference: TicketRefDep, who: TicketAdvisorDep, res: ResourcesDep, key: IdempotencyKey = None
) -> TicketResponse:
    """Announce a called ticket again, or call a no-show back (once). The advisor's own
    latest no-show may be recalled while the next ticket is only called: that one goes
    back to the front of its line. 409 with a customer in service or after one recall."""
    return TicketResponse.of(await recall_service.recall(res, reference, _advisor(who), key))


@router.post("/transfer", response_model=TicketResponse, response_model_by_alias=True)
async def transfer(
    reference: TicketRefDep,
    body: TransferRequest,
    who: TicketStaffDep,
    res: ResourcesDep,
    key: IdempotencyKey = None,
) -> TicketResponse:
    """Move the ticket to another queue; it keeps its arrival time (and so its place).
    409 when it is already in that queue."""
    if who.role == "advisor":
        actor, advisor = f"advisor:{_advisor(who)}", who.advisor_id
    elif who.role == "supervisor":
        actor, advisor = f"supervisor:{who.username}", None
    else:
        raise ApiError(403, "auth.requires_role", params={"roles": "advisor / supervisor"})
    view = await transfer_service.transfer(
        res,
        reference,
        Transition(
            action="TRANSFER",
            actor=actor,
            advisor_id=advisor,
            target_queue=body.queue.value,
            reason=body.reason,
        ),
        key,
    )
    return TicketResponse.of(view)
