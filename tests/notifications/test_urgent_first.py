"""Near the rate limit a call goes before the queued "created" messages (issue 15).

A bridge limited to 5 messages/s (TELEGRAM_SEND_RATE) gets a burst of ordinary
notifications, then one YOUR_TURN: the call reaches the sandbox phone before most
of the burst, and every message still arrives exactly once. Real RabbitMQ, real
sandbox, real PostgreSQL claims; what is asserted is the order, never a time.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.__main__ import SEND_RATE_ENV
from db.messages import ensure_pending
from devstack.ephemeral import free_port
from domain.contracts import MSG_CREATED, MSG_YOUR_TURN, message_key, notification_workflow_id
from messaging.messages import OutboundTelegram
from messaging.topology import declare_exchange, telegram_routing_key
from settings import Settings
from tests.notifications.helpers import Phone, create_ticket, start_bridge
from tests.support.data import chat_id
from tests.support.stack import Stack
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e
SLOW = "bridge-slow"
BURST = 40


@pytest.fixture
async def slow_bridge(stack: Stack, phone: Phone) -> AsyncIterator[None]:
    """The stack's bridge replaced by one sending 5 messages/s; put back after."""
    normal = stack.spec("bridge")
    env = {**(normal.env or {}), "BRIDGE_METRICS_PORT": str(free_port()), SEND_RATE_ENV: "5"}
    await stack.supervisor.stop("bridge")
    await start_bridge(stack, phone.sandbox, dataclasses.replace(normal, name=SLOW, env=env))
    yield
    if stack.supervisor.running(SLOW):
        await stack.supervisor.stop(SLOW)
    if not stack.supervisor.running("bridge"):
        await start_bridge(stack, phone.sandbox, normal)


async def pending(
    db: AsyncEngine, ticket: dict[str, Any], kind: str, sequence: int, chat: int
) -> OutboundTelegram:
    """A PENDING `mensaje` row (the bridge's claim needs one) and its broker copy."""
    reference = uuid.UUID(str(ticket["reference"]))
    row = await ensure_pending(
        db,
        ticket_reference=reference,
        kind=message_key(kind, sequence),
        chat_id=chat,
        body=f"{kind} {sequence}",
        scheduled_at=datetime.now(UTC),
    )
    return OutboundTelegram(
        message_id=row.id,
        kind=kind,
        chat_id=chat,
        text=row.text,
        ticket_reference=reference,
        workflow_id=notification_workflow_id(reference, kind, sequence),
        ticket_created_at=datetime.fromisoformat(str(ticket["createdAt"])),
        attempt=0,
    )


async def publish(stack: Stack, messages: list[OutboundTelegram]) -> None:
    """In this order, each confirmed by the broker before the next."""
    connection = await aio_pika.connect_robust(stack.env["RABBITMQ_URL"])
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, Settings().rabbitmq_exchange)
        for out in messages:
            await exchange.publish(
                aio_pika.Message(
                    body=out.model_dump_json().encode(),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=str(out.message_id),
                    type=out.kind,
                ),
                routing_key=telegram_routing_key(out.kind),
                mandatory=True,
            )
    finally:
        await connection.close()


async def test_a_call_overtakes_a_burst_of_created_messages(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, phone: Phone, slow_bridge: None
) -> None:
    ticket = await create_ticket(api)  # no chat: its rows are this test's only messages
    chats = [chat_id() for _ in range(BURST + 1)]
    burst = [await pending(db, ticket, MSG_CREATED, i + 2, c) for i, c in enumerate(chats[1:])]
    call = await pending(db, ticket, MSG_YOUR_TURN, 1, chats[0])

    await publish(stack, [*burst, call])

    async def all_delivered() -> dict[int, list[dict[str, Any]]] | None:
        got = {chat: await phone.messages(chat) for chat in chats}
        return got if all(got.values()) else None

    delivered = await eventually(all_delivered, timeout=60, what="every message delivered")
    assert all(len(messages) == 1 for messages in delivered.values()), "exactly once"
    order = sorted(chats, key=lambda chat: str(delivered[chat][0]["received_at"]))
    rank = order.index(chats[0])
    # In one FIFO queue it would be last (41st); its own queue without the limiter's
    # priority made it 34th (a full prefetch ahead); with both it came 2nd. Half the
    # burst is the bound, so a slow box cannot make it flaky.
    assert rank < BURST // 2, f"the call was delivered {rank + 1}th of {BURST + 1}"
