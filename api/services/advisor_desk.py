"""The advisor's desk: their own status, calling the next ticket, the ticket in hand."""

from __future__ import annotations

from datetime import UTC, datetime

from api.errors import ApiError
from api.resources import Resources
from api.schemas.advisors import DeskView
from api.schemas.tickets import TicketResponse
from api.services.lifecycle import current
from assignment import claims, dispatcher
from domain.states import AdvisorStatus


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


async def desk(res: Resources, advisor_id: int) -> DeskView:
    return await _view(res, await _load(res, advisor_id))


async def set_status(res: Resources, advisor_id: int, status: str) -> DeskView:
    """AVAILABLE also takes the best waiting ticket at once (automatic assignment)."""
    advisor = await _load(res, advisor_id)
    if advisor.current_ticket is not None and status != AdvisorStatus.AVAILABLE:
        raise ApiError(
            409, "finish the ticket in hand first", extra={"advisorStatus": advisor.status}
        )
    advisor = await claims.set_status(res.engine, advisor_id, status, datetime.now(UTC))
    if status == AdvisorStatus.AVAILABLE and advisor.current_ticket is None:
        client = await res.temporal.get()
        await dispatcher.call_next(
            res.engine, client, advisor_id, f"advisor:{advisor_id}", auto=True
        )
        advisor = await _load(res, advisor_id)
    return await _view(res, advisor)


async def call_next(res: Resources, advisor_id: int) -> DeskView:
    """Take the next ticket by the branch's rule; 409 while another is in hand."""
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
        advisor = await claims.set_status(
            res.engine, advisor_id, AdvisorStatus.AVAILABLE, datetime.now(UTC)
        )
        return await _view(res, advisor, "No hay turnos en espera en sus colas")
    return await _view(res, advisor)
