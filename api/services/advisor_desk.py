"""The advisor's desk: their own status, calling the next ticket, the ticket in hand."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from api.errors import ApiError
from api.resources import Resources
from api.schemas.advisors import DeskView, QueueWaitingOut, RecallableOut
from api.schemas.tickets import TicketResponse
from api.services import health, lifecycle
from api.services.lifecycle import current
from assignment import claims, dispatcher
from db import advisors as advisor_store
from domain.numbering import business_day
from domain.states import AdvisorStatus

_T = TypeVar("_T")


async def _view(res: Resources, advisor: claims.Advisor, message: str | None = None) -> DeskView:
    ticket = await current(res, advisor.current_ticket) if advisor.current_ticket else None
    mine = set(advisor.queues)
    async with res.engine.connect() as conn:
        branch_name, time_zone = await advisor_store.branch_of(conn, advisor.branch_id)
        waiting = await advisor_store.branch_waiting(conn, advisor.branch_id)
        day = business_day(datetime.now(UTC), time_zone)
        no_show = await advisor_store.recallable_no_show(conn, advisor.id, day)
    return DeskView(
        advisor_id=advisor.id,
        name=advisor.name,
        desk=advisor.desk,
        branch_office=branch_name,
        queues=list(advisor.queues),
        status=advisor.status,
        pending_status=advisor.pending_status,
        ticket=TicketResponse.of(ticket) if ticket else None,
        waiting=[
            QueueWaitingOut(queue=w.queue, waiting=w.waiting, served_by_me=w.queue in mine)
            for w in waiting
        ],
        recallable=None
        if no_show is None
        else RecallableOut(
            reference=no_show.reference,
            number=no_show.number,
            queue=no_show.queue,
            no_show_at=no_show.no_show_at,
        ),
        message=message,
    )


async def _load(res: Resources, advisor_id: int) -> claims.Advisor:
    async with res.engine.connect() as conn:
        advisor = await claims.get_advisor(conn, advisor_id)
    if advisor is None:
        raise ApiError(404, "advisor.not_found")
    return advisor


async def desk(res: Resources, advisor_id: int) -> DeskView:
    return await _view(res, await _load(res, advisor_id))


async def set_status(res: Resources, advisor_id: int, status: str) -> DeskView:
    """AVAILABLE also takes the best waiting ticket at once (automatic assignment); BREAK
    or OFFLINE with a ticket in hand is queued ("pause after this ticket")."""
    advisor = await _load(res, advisor_id)
    if advisor.current_ticket is not None and status != AdvisorStatus.AVAILABLE:
        # BREAK or OFFLINE with a ticket in hand: queued, taken when that ticket ends.
        return await set_after_ticket(res, advisor_id, status)
    if advisor.current_ticket is not None and advisor.pending_status is not None:
        # AVAILABLE with a ticket in hand: keep working after it (the pause is cancelled).
        advisor = await claims.set_after_ticket(res.engine, advisor_id, None, datetime.now(UTC))
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
                "advisor.ticket_in_hand",
                extra={"ticketReference": str(advisor.current_ticket)},
            )
        claim = claims.Claim(advisor.current_ticket, stuck, advisor)
        await _bounded(dispatcher.call_claimed(res.engine, client, claim, actor))
        return await _view(res, await _load(res, advisor_id))
    await health.require(res, "temporal")
    state = await _bounded(dispatcher.call_next(res.engine, client, advisor_id, actor, auto=False))
    advisor = await _load(res, advisor_id)
    if state is None:
        advisor = await claims.set_status(
            res.engine, advisor_id, AdvisorStatus.AVAILABLE, datetime.now(UTC)
        )
        return await _view(res, advisor, "No hay turnos en espera en sus colas")
    return await _view(res, advisor)


async def _bounded(call: Coroutine[Any, Any, _T]) -> _T:
    """503 with Retry-After past the transition bound. Safe to cut: a reservation made but
    not yet called is called by its ticket's timer (or released), never lost."""
    try:
        async with asyncio.timeout(lifecycle.TRANSITION_TIMEOUT_SECONDS):
            return await call
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # The SDK turns our timeout's cancellation into its own error: both are the bound.
        raise lifecycle.unavailable() from None


async def set_after_ticket(res: Resources, advisor_id: int, status: str | None) -> DeskView:
    """Pause (BREAK or OFFLINE) once the ticket in hand ends instead of being called next;
    with nothing in hand, at once. None cancels a pending request."""
    await _load(res, advisor_id)
    try:
        advisor = await claims.set_after_ticket(res.engine, advisor_id, status, datetime.now(UTC))
    except claims.AdvisorNotFound:
        raise ApiError(404, "advisor.not_found") from None
    message = None
    if advisor.pending_status is not None:
        message = "La pausa se aplicará al terminar la atención en curso"
    return await _view(res, advisor, message)
