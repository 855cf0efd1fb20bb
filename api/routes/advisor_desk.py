"""The advisor's desk: own status, call next, and the ticket in hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from api.auth.deps import AdvisorDep, Principal
from api.deps import ResourcesDep
from api.errors import ApiError
from api.resources import Resources
from api.schemas import TicketResponse
from api.services.lifecycle import current
from assignment import claims, dispatcher

router = APIRouter(prefix="/api/advisors/me", tags=["advisor desk"])


class StatusChange(BaseModel):
    status: Literal["AVAILABLE", "BREAK", "OFFLINE"]


class DeskView(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    advisor_id: int
    name: str
    desk: int
    queues: list[str]
    status: str
    ticket: TicketResponse | None
    message: str | None = None


def _advisor_id(who: Principal) -> int:
    if who.advisor_id is None:
        raise ApiError(403, "this user is not linked to an advisor")
    return who.advisor_id


async def _view(res: Resources, advisor: claims.Advisor, message: str | None = None) -> DeskView:
    ticket = await current(res, advisor.current_ticket) if advisor.current_ticket else None
    return DeskView(
        advisor_id=advisor.id,
        name=advisor.name,
        desk=advisor.desk,
        queues=list(advisor.queues),
        status=advisor.status,
        ticket=TicketResponse.of(ticket) if ticket else None,
        message=message,
    )


async def _load(res: Resources, advisor_id: int) -> claims.Advisor:
    async with res.engine.connect() as conn:
        advisor = await claims.get_advisor(conn, advisor_id)
    if advisor is None:
        raise ApiError(404, "advisor not found or inactive")
    return advisor


@router.get("", response_model=DeskView, response_model_by_alias=True)
async def me(who: AdvisorDep, res: ResourcesDep) -> DeskView:
    return await _view(res, await _load(res, _advisor_id(who)))


@router.put("/status", response_model=DeskView, response_model_by_alias=True)
async def set_status(body: StatusChange, who: AdvisorDep, res: ResourcesDep) -> DeskView:
    """AVAILABLE also takes the best waiting ticket at once (automatic assignment)."""
    advisor_id = _advisor_id(who)
    advisor = await _load(res, advisor_id)
    if advisor.current_ticket is not None and body.status != "AVAILABLE":
        raise ApiError(
            409, "finish the ticket in hand first", extra={"advisorStatus": advisor.status}
        )
    advisor = await claims.set_status(res.engine, advisor_id, body.status, datetime.now(UTC))
    if body.status == "AVAILABLE" and advisor.current_ticket is None:
        client = await res.temporal.get()
        await dispatcher.call_next(
            res.engine, client, advisor_id, f"advisor:{advisor_id}", auto=True
        )
        advisor = await _load(res, advisor_id)
    return await _view(res, advisor)


@router.post("/call-next", response_model=DeskView, response_model_by_alias=True)
async def call_next(who: AdvisorDep, res: ResourcesDep) -> DeskView:
    """Take the next ticket by the branch's rule; 409 while another is in hand."""
    advisor_id = _advisor_id(who)
    advisor = await _load(res, advisor_id)
    client = await res.temporal.get()
    actor = f"advisor:{advisor_id}"
    if advisor.current_ticket is not None:
        stuck = await claims.reserved_but_not_called(res.engine, advisor)
        if stuck is None:
            raise ApiError(
                409,
                "finish the ticket in hand first",
                extra={"ticketReference": str(advisor.current_ticket)},
            )
        claim = claims.Claim(advisor.current_ticket, stuck, advisor)
        await dispatcher.call_claimed(res.engine, client, claim, actor)
        return await _view(res, await _load(res, advisor_id))
    state = await dispatcher.call_next(res.engine, client, advisor_id, actor, auto=False)
    advisor = await _load(res, advisor_id)
    if state is None:
        advisor = await claims.set_status(res.engine, advisor_id, "AVAILABLE", datetime.now(UTC))
        return await _view(res, advisor, "No hay turnos en espera en sus colas")
    return await _view(res, advisor)
