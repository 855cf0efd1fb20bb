"""A transfer asked through the API: a plain 409 for the queue the ticket is already in."""

from __future__ import annotations

import uuid

from api.errors import ApiError
from api.resources import Resources
from api.services import lifecycle
from domain.contracts import TicketView, Transition


async def transfer(
    res: Resources, reference: uuid.UUID, request: Transition, idempotency_key: str | None = None
) -> TicketView:
    ticket = await lifecycle.current(res, reference)
    if request.target_queue == ticket.queue:
        raise ApiError(
            409,
            "transfer.same_queue",
            params={"queue": ticket.queue},
            extra={"currentStatus": ticket.status, "queue": ticket.queue},
        )
    return await lifecycle.transition(res, reference, request, idempotency_key)
