"""A notification RabbitMQ dead-letters is never delivered: its row ends FAILED with the
reason and its workflow closes FAILED (issue 12, point 6), instead of idling a day with
the row PENDING."""

from __future__ import annotations

import asyncio
import json

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.contracts import NotificationOutcome, notification_workflow_id
from messaging.topology import TELEGRAM_QUEUE
from tests.notifications.helpers import Phone, create_ticket, start_bridge, wait_mensaje
from tests.support.data import chat_id
from tests.support.stack import Stack
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


async def test_a_dead_lettered_notification_ends_failed_with_its_reason(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, sandbox: httpx.AsyncClient, phone: Phone
) -> None:
    await stack.supervisor.stop("bridge")  # the message waits in the queue
    chat = chat_id()
    ticket = await create_ticket(api, telegramChatId=chat)
    connection = await aio_pika.connect_robust(stack.env["RABBITMQ_URL"])
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(TELEGRAM_QUEUE, passive=True)

        async def ours() -> AbstractIncomingMessage | None:
            while (message := await queue.get(no_ack=False, fail=False)) is not None:
                if json.loads(message.body)["ticket_reference"] == ticket["reference"]:
                    return message
                await message.nack(requeue=True)
            return None

        message = await eventually(ours, timeout=15, what="the notification in the queue")
        # What RabbitMQ does with a message a consumer rejects (or that expires, or
        # overflows the queue): it goes to the dead-letter exchange, never delivered.
        await message.reject(requeue=False)
    finally:
        await connection.close()
    await start_bridge(stack, sandbox, stack.spec("bridge"))

    row = await wait_mensaje(db, ticket["reference"], "FAILED", within=20)
    assert "dead-lettered" in row.last_error and "rejected" in row.last_error
    client = await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
    handle = client.get_workflow_handle(
        notification_workflow_id(ticket["reference"], "TICKET_CREATED"),
        result_type=NotificationOutcome,
    )
    outcome = await asyncio.wait_for(handle.result(), 15)
    assert outcome.state == "FAILED"
    assert await phone.messages(chat) == []
