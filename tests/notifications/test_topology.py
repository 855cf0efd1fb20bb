"""Broker topology: malformed messages are dead-lettered; the pre-v2 queue is retired."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from aio_pika.exceptions import ChannelNotFoundEntity

from messaging.topology import (
    DEAD_LETTER_QUEUE,
    LEGACY_TELEGRAM_QUEUE,
    TELEGRAM_ROUTING,
    declare_exchange,
    declare_telegram_queue,
    retire_legacy_queue,
    telegram_routing_key,
)
from tests.notifications.helpers import Phone
from tests.support.stack import Stack
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e
EXCHANGE = "ticketero.events"


@pytest.fixture
async def broker(stack: Stack) -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(stack.env["RABBITMQ_URL"])
    try:
        yield connection
    finally:
        await connection.close()


async def test_a_malformed_notification_is_dead_lettered(
    broker: AbstractRobustConnection, phone: Phone
) -> None:
    channel = await broker.channel()
    exchange = await declare_exchange(channel, EXCHANGE)
    marker = f"not a notification {uuid.uuid4()}".encode()
    await exchange.publish(aio_pika.Message(body=marker), routing_key=telegram_routing_key("X"))
    dead = await channel.declare_queue(DEAD_LETTER_QUEUE, durable=True)

    async def dead_lettered() -> bool:
        while (message := await dead.get(no_ack=True, fail=False)) is not None:
            if message.body == marker:
                return True
        return False

    await eventually(dead_lettered, timeout=10, what="the message in the dead-letter queue")


async def test_the_pre_v2_queue_is_unbound_then_deleted_once_empty(
    broker: AbstractRobustConnection,
) -> None:
    channel = await broker.channel()
    exchange = await declare_exchange(channel, EXCHANGE)
    legacy = await channel.declare_queue(LEGACY_TELEGRAM_QUEUE, durable=True)  # as before v2
    await legacy.bind(exchange, routing_key=TELEGRAM_ROUTING)
    await channel.default_exchange.publish(
        aio_pika.Message(body=b"left over"), routing_key=LEGACY_TELEGRAM_QUEUE
    )
    await declare_telegram_queue(channel, exchange)  # no PRECONDITION_FAILED next to it

    assert await retire_legacy_queue(broker, EXCHANGE) == 1  # kept: a message is left
    await exchange.publish(aio_pika.Message(body=b"{}"), routing_key=telegram_routing_key("X"))
    still = await channel.declare_queue(LEGACY_TELEGRAM_QUEUE, durable=True)
    assert still.declaration_result.message_count == 1  # no longer routed there
    await still.purge()

    assert await retire_legacy_queue(broker, EXCHANGE) == 0
    probe = await broker.channel()
    with pytest.raises(ChannelNotFoundEntity):
        await probe.declare_queue(LEGACY_TELEGRAM_QUEUE, passive=True)
