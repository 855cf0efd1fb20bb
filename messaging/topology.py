"""Declares the exchange and queues; both the worker and the bridge call it (idempotent)."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

TELEGRAM_QUEUE = "ticketero.telegram"
TELEGRAM_ROUTING = "notification.telegram.*"


def telegram_routing_key(kind: str) -> str:
    return f"notification.telegram.{kind.lower()}"


async def declare_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    """The durable topic exchange every notification is published to."""
    return await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_telegram_queue(
    channel: AbstractChannel, exchange: AbstractExchange
) -> AbstractQueue:
    """Durable queue the Telegram bridge consumes; bound before anything is published."""
    queue = await channel.declare_queue(TELEGRAM_QUEUE, durable=True)
    await queue.bind(exchange, routing_key=TELEGRAM_ROUTING)
    return queue
