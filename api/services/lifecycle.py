"""Ticket transitions asked through the API: the ticket's workflow decides, we map its answer."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from sqlalchemy.exc import IntegrityError
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.error_messages import not_allowed_key
from api.errors import ApiError
from api.resources import Resources
from api.services import health
from assignment import dispatcher
from db import tickets as store
from domain.contracts import (
    ERR_INVALID_TRANSITION,
    ERR_NOT_ALLOWED,
    TicketView,
    Transition,
    ticket_workflow_id,
)
from domain.states import TicketAction, TicketStatus

#: Past this the caller gets 503 with Retry-After instead of waiting on (a client gives up
#: at about 10 s): a worker killed mid-step holds an update until its activity is retried.
#: A retry is safe: the same transition on a ticket that already moved is a plain 409.
TRANSITION_TIMEOUT_SECONDS = 8.0


async def current(res: Resources, reference: uuid.UUID) -> TicketView:
    async with res.engine.connect() as conn:
        ticket = await store.get_ticket(conn, reference)
    if ticket is None:
        raise ApiError(404, "ticket.not_found", params={"reference": reference})
    return ticket


def refusal(err: BaseException, status_now: str) -> ApiError:
    """409 naming the current state for a state-machine refusal; 403 for a wrong actor."""
    cause = err.cause if isinstance(err, WorkflowUpdateFailedError) else err
    if isinstance(cause, ApplicationError) and cause.type == ERR_NOT_ALLOWED:
        return ApiError(403, not_allowed_key(cause.message))
    if isinstance(cause, ApplicationError) and cause.type == ERR_INVALID_TRANSITION:
        state = str(cause.details[0]) if cause.details else status_now
        return ApiError(
            409, "ticket.status_now", params={"status": state}, extra={"currentStatus": state}
        )
    return ApiError(
        409, "ticket.status_now", params={"status": status_now}, extra={"currentStatus": status_now}
    )


def update_id(action: str, idempotency_key: str | None) -> str | None:
    """The update id of an API action: the same Idempotency-Key sends the same update, so a
    client retry after our 15 s give-up gets the first outcome instead of a second RECALL."""
    if not idempotency_key:
        return None
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"api-{action.lower()}-{digest}"


async def transition(
    res: Resources,
    reference: uuid.UUID,
    request: Transition,
    idempotency_key: str | None = None,
) -> TicketView:
    """Run one transition on the ticket's workflow and answer from the read model."""
    ticket = await current(res, reference)
    await health.require(res, "temporal")
    try:
        client = await res.temporal.get()
        async with asyncio.timeout(TRANSITION_TIMEOUT_SECONDS):
            await dispatcher.send_raw(
                client,
                ticket_workflow_id(reference),
                request,
                update_id(request.action, idempotency_key),
            )
    except WorkflowUpdateFailedError as err:
        raise refusal(err, ticket.status) from None
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            # The workflow has finished: the ticket is final.
            raise refusal(err, (await current(res, reference)).status) from None
        raise unavailable() from None
    except (TimeoutError, OSError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise unavailable() from None
    return await current(res, reference)


def unavailable() -> ApiError:
    """The 503 of a Temporal step that did not finish in time (Retry-After: 2)."""
    return ApiError(
        503, "ticket.unavailable", extra={"dependency": "temporal"}, headers={"Retry-After": "2"}
    )


async def recall(
    res: Resources,
    reference: uuid.UUID,
    advisor_id: int,
    actor: str,
    idempotency_key: str | None = None,
) -> TicketView:
    """Re-announce a called ticket, or call a no-show back once (the advisor must be free;
    that RECALL's update id is its reservation's, see dispatcher.reservation_id)."""
    ticket = await current(res, reference)
    if ticket.status != TicketStatus.NO_SHOW:
        recall = Transition(action=TicketAction.RECALL, actor=actor, advisor_id=advisor_id)
        return await transition(res, reference, recall, idempotency_key)
    try:
        client = await res.temporal.get()
        async with asyncio.timeout(TRANSITION_TIMEOUT_SECONDS):
            await dispatcher.recall(
                res.engine, client, advisor_id, ticket_workflow_id(reference), actor
            )
    except dispatcher.Refused as err:
        if isinstance(err.__cause__, WorkflowUpdateFailedError):
            raise refusal(err.__cause__, ticket.status) from None
        raise ApiError(
            409,
            "ticket.recall_refused",
            params={"status": ticket.status},
            extra={"currentStatus": ticket.status},
        ) from None
    except IntegrityError:
        # Another advisor recalled the same ticket at the same moment and won.
        raise ApiError(409, "ticket.recall_race") from None
    except WorkflowUpdateFailedError as err:
        raise refusal(err, ticket.status) from None
    except (RPCError, TimeoutError, OSError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise unavailable() from None
    return await current(res, reference)
