"""Live ticket events for branch displays: every transition, fanned out per API process."""

from __future__ import annotations

from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

LIVE_ROUTING = "ticket.#"


def ticket_event_routing_key(branch_id: int, action: str) -> str:
    return f"ticket.{branch_id}.{action.lower()}"


async def declare_live_queue(channel: AbstractChannel, exchange: AbstractExchange) -> AbstractQueue:
    """A private queue per listening process: gone when the process goes."""
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, routing_key=LIVE_ROUTING)
    return queue
