"""Declares the exchanges and queues; the worker, the API and the bridge call it (idempotent).

Queue arguments cannot change once a queue exists (RabbitMQ answers
PRECONDITION_FAILED), so the dead-lettering Telegram queue has a new name
(`ticketero.telegram.v2`); the bridge retires the old `ticketero.telegram`.

Time-critical notifications ("your turn", a recall) go to a queue of their own,
`ticketero.telegram.urgent`, under a four-word routing key the three-word
`notification.telegram.*` binding does not match: in one queue a call would wait
behind every "created" already queued (FIFO), and the bridge consumes the urgent
queue with its own prefetch so it is never stuck behind a full prefetch of others.
"""

from __future__ import annotations

import logging

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange, AbstractQueue
from aio_pika.exceptions import AMQPChannelError
from pamqp.common import FieldTable

from domain.contracts import URGENT_MESSAGES

log = logging.getLogger("ticketero.messaging")

TELEGRAM_QUEUE = "ticketero.telegram.v2"
LEGACY_TELEGRAM_QUEUE = "ticketero.telegram"
TELEGRAM_ROUTING = "notification.telegram.*"
#: The queue of time-critical notifications (kinds in URGENT_KINDS).
URGENT_TELEGRAM_QUEUE = "ticketero.telegram.urgent"
URGENT_TELEGRAM_ROUTING = "notification.telegram.urgent.*"
#: The time-critical kinds, which get this queue (domain.contracts.URGENT_MESSAGES).
URGENT_KINDS = URGENT_MESSAGES
#: Raw Bot API updates received by the API's webhook, handled by the bridge.
UPDATES_QUEUE = "ticketero.telegram.updates"
UPDATE_ROUTING = "telegram.update"
DEAD_LETTER_EXCHANGE = "ticketero.dlx"
DEAD_LETTER_QUEUE = "ticketero.telegram.dead"
#: A second copy of every dead-lettered notification, consumed by the bridge: it marks
#: the message FAILED with the reason and reports it (the dead queue stays for operators).
DEAD_REPORT_QUEUE = "ticketero.telegram.dead.report"
_DEAD_LETTERED: FieldTable = {"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE}


def is_urgent(kind: str) -> bool:
    return kind in URGENT_KINDS


def telegram_routing_key(kind: str) -> str:
    if is_urgent(kind):
        return f"notification.telegram.urgent.{kind.lower()}"
    return f"notification.telegram.{kind.lower()}"


async def declare_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    """The durable topic exchange every notification is published to."""
    return await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_dead_letters(channel: AbstractChannel) -> AbstractQueue:
    """Rejected messages keep their routing key, so one topic DLX serves both queues."""
    dlx = await channel.declare_exchange(
        DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
    )
    dead = await channel.declare_queue(DEAD_LETTER_QUEUE, durable=True)
    for key in (TELEGRAM_ROUTING, URGENT_TELEGRAM_ROUTING, UPDATE_ROUTING):
        await dead.bind(dlx, routing_key=key)
    return dead


async def declare_dead_reports(channel: AbstractChannel) -> AbstractQueue:
    """The queue of dead-lettered notifications the bridge reports as FAILED."""
    await declare_dead_letters(channel)
    queue = await channel.declare_queue(DEAD_REPORT_QUEUE, durable=True)
    for key in (TELEGRAM_ROUTING, URGENT_TELEGRAM_ROUTING):
        await queue.bind(DEAD_LETTER_EXCHANGE, routing_key=key)
    return queue


async def declare_telegram_queue(
    channel: AbstractChannel, exchange: AbstractExchange
) -> AbstractQueue:
    """Durable queue the Telegram bridge consumes; bound before anything is published."""
    await declare_dead_letters(channel)
    queue = await channel.declare_queue(TELEGRAM_QUEUE, durable=True, arguments=_DEAD_LETTERED)
    await queue.bind(exchange, routing_key=TELEGRAM_ROUTING)
    await declare_urgent_queue(channel, exchange)
    return queue


async def declare_urgent_queue(
    channel: AbstractChannel, exchange: AbstractExchange
) -> AbstractQueue:
    """The queue of time-critical notifications; `declare_telegram_queue` declares it too,
    so a publisher that declares the one never publishes an urgent kind to no queue."""
    await declare_dead_letters(channel)
    queue = await channel.declare_queue(
        URGENT_TELEGRAM_QUEUE, durable=True, arguments=_DEAD_LETTERED
    )
    await queue.bind(exchange, routing_key=URGENT_TELEGRAM_ROUTING)
    return queue


async def declare_updates_queue(
    channel: AbstractChannel, exchange: AbstractExchange
) -> AbstractQueue:
    """Durable queue of webhook updates (the bridge consumes it in webhook mode)."""
    await declare_dead_letters(channel)
    queue = await channel.declare_queue(UPDATES_QUEUE, durable=True, arguments=_DEAD_LETTERED)
    await queue.bind(exchange, routing_key=UPDATE_ROUTING)
    return queue


async def retire_legacy_queue(connection: AbstractConnection, exchange: str) -> int:
    """Unbind the pre-v2 queue and delete it when empty; returns the messages still in it.

    Call it after `declare_telegram_queue`, so every notification has a queue.
    Runs on its own channel: a refused delete closes the channel it ran on.
    """
    channel = await connection.channel()
    try:
        # Same arguments as the old declaration, so this never fails on an existing queue.
        legacy = await channel.declare_queue(LEGACY_TELEGRAM_QUEUE, durable=True)
        await legacy.unbind(exchange, routing_key=TELEGRAM_ROUTING)
        result = legacy.declaration_result
        left = int(result.message_count or 0) if result is not None else 0
        if left == 0 and not (result is not None and result.consumer_count):
            await legacy.delete(if_unused=True, if_empty=True)
        return left
    except AMQPChannelError as err:
        log.warning("legacy queue kept for now: %s", type(err).__name__)
        return 0
    finally:
        if not channel.is_closed:
            await channel.close()
