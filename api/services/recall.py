"""Recall at the desk: re-announce the ticket in hand, or call one's own no-show back.

An advisor's most recent no-show stays recallable (once) until the end of the business
day, whatever was called after it: with nothing in hand it is simply called back; with a
ticket that is only CALLED (the automatic call after the no-show), that ticket goes back
to the front of its line (it keeps its arrival time) and the no-show is called at this
desk; with a customer already in service the recall is refused.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from api.errors import ApiError
from api.resources import Resources
from api.services import lifecycle
from assignment import claims, dispatcher, recall_swap
from domain.contracts import TicketView, Transition
from domain.states import TicketAction, TicketStatus

ALREADY_RECALLED = "recall.already"
IN_SERVICE = "recall.in_service"
#: How long a recall waits for the CALL of a just-made reservation to land.
SETTLE_SECONDS = 5.0
NOT_YOURS = "recall.not_yours"
NOT_RECALLABLE = "recall.not_recallable"


def _unavailable() -> ApiError:
    return ApiError(
        503,
        "ticket.unavailable",
        headers={"Retry-After": "2"},
    )


async def recall(
    res: Resources, reference: uuid.UUID, advisor_id: int, idempotency_key: str | None = None
) -> TicketView:
    actor = f"advisor:{advisor_id}"
    ticket = await lifecycle.current(res, reference)
    if ticket.status != TicketStatus.NO_SHOW:
        return await lifecycle.recall(res, reference, advisor_id, actor, idempotency_key)
    async with res.engine.connect() as conn:
        recalls = await recall_swap.recalls_of(conn, reference)
        advisor = await claims.get_advisor(conn, advisor_id)
        held = None
        if advisor is not None and advisor.current_ticket not in (None, reference):
            held = await recall_swap.ticket_row(conn, advisor.current_ticket)
        mine = await recall_swap.ticket_row(conn, reference)
    if recalls >= 1:
        raise ApiError(409, ALREADY_RECALLED, extra={"currentStatus": ticket.status})
    if advisor is None:
        raise ApiError(404, "advisor.not_found")
    if advisor.current_ticket == reference and mine is not None:
        # A swap interrupted before its RECALL: send it again (it is answered once).
        claim = claims.Claim(reference, mine.workflow_id, advisor, ticket.queue)
        return await _recall_claimed(res, claim, ticket.status)
    if held is None:
        return await lifecycle.recall(res, reference, advisor_id, actor, idempotency_key)
    held = await _settled(res, held)
    if held.status == TicketStatus.IN_SERVICE:
        raise ApiError(409, IN_SERVICE, extra={"ticketReference": str(held.reference)})
    if held.status != TicketStatus.CALLED or mine is None or mine.advisor_id != advisor_id:
        raise ApiError(409, NOT_YOURS, extra={"ticketReference": str(held.reference)})
    swapped = await recall_swap.take_slot(
        res.engine, advisor_id, held.reference, reference, datetime.now(UTC)
    )
    if swapped is None:
        raise ApiError(409, NOT_RECALLABLE, extra={"currentStatus": ticket.status})
    await _requeue(res, swapped, held)
    return await _recall_claimed(res, swapped, ticket.status)


async def _settled(res: Resources, held: recall_swap.HeldTicket) -> recall_swap.HeldTicket:
    """The ticket in hand once its CALL has landed: a fresh reservation is still WAITING for
    a moment while the dispatcher's CALL is in flight (bounded wait, then as it is)."""
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while held.status == TicketStatus.WAITING and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        async with res.engine.connect() as conn:
            fresh = await recall_swap.ticket_row(conn, held.reference)
        if fresh is None:
            break
        held = fresh
    return held


async def _requeue(res: Resources, claim: claims.Claim, held: recall_swap.HeldTicket) -> None:
    """Send the called ticket back to its line; undo the swap if it is still in hand."""
    requeue = Transition(
        action=TicketAction.REQUEUE.value,
        actor=f"advisor:{claim.advisor.id}",
        advisor_id=claim.advisor.id,
        reason="the advisor recalled their no-show",
    )
    try:
        client = await res.temporal.get()
        async with asyncio.timeout(lifecycle.TRANSITION_TIMEOUT_SECONDS):
            await dispatcher.send(client, held.workflow_id, requeue)
    except dispatcher.Refused:
        now = await lifecycle.current(res, held.reference)
        if now.status in (TicketStatus.CALLED, TicketStatus.IN_SERVICE):
            await recall_swap.give_back_slot(res.engine, claim, held.reference)
            extra = {"ticketReference": str(held.reference)}
            raise ApiError(409, IN_SERVICE, extra=extra) from None
        # It ended meanwhile (a no-show timer, a supervisor's transfer): nothing to give back.
    except (RPCError, TimeoutError, OSError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # Unknown outcome: the slot stays on the no-show; asking again resumes the recall.
        raise _unavailable() from None


async def _recall_claimed(res: Resources, claim: claims.Claim, status_now: str) -> TicketView:
    recall = Transition(
        action=TicketAction.RECALL.value,
        actor=f"advisor:{claim.advisor.id}",
        advisor_id=claim.advisor.id,
        desk=claim.advisor.desk,
        advisor_name=claim.advisor.name,
    )
    try:
        client = await res.temporal.get()
        async with asyncio.timeout(lifecycle.TRANSITION_TIMEOUT_SECONDS):
            await dispatcher.send(client, claim.workflow_id, recall)
    except dispatcher.Refused:
        await claims.release(res.engine, claim, datetime.now(UTC))
        client = await res.temporal.get()
        await dispatcher.call_next(
            res.engine, client, claim.advisor.id, f"advisor:{claim.advisor.id}", auto=True
        )
        raise ApiError(409, NOT_RECALLABLE, extra={"currentStatus": status_now}) from None
    except (RPCError, TimeoutError, OSError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise _unavailable() from None
    return await lifecycle.current(res, claim.reference)
