"""Live ticket events for branch displays: every transition, fanned out per API process."""

from __future__ import annotations

from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from domain.contracts import TicketView

LIVE_ROUTING = "ticket.#"


def created_event(ticket: TicketView) -> dict[str, object]:
    """The CREATE live event of a new ticket, as displays read it."""
    return {
        "branch": ticket.branch_office,
        "number": ticket.number,
        "queue": ticket.queue,
        "action": "CREATE",
        "status": ticket.status,
        "desk": None,
        "at": ticket.created_at.isoformat(),
        "eventId": str(ticket.reference),
    }


def ticket_event_routing_key(branch_id: int, action: str) -> str:
    return f"ticket.{branch_id}.{action.lower()}"


async def declare_live_queue(channel: AbstractChannel, exchange: AbstractExchange) -> AbstractQueue:
    """A private queue per listening process: gone when the process goes."""
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, routing_key=LIVE_ROUTING)
    return queue
