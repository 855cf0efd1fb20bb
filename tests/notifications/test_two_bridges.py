"""Two bridge processes on one stack: one send per message, one conversation, one poller.

The stack's own bridge and a second copy (`bridge-2`) consume the same queues and
share PostgreSQL, as two replicas behind one bot would.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import AsyncIterator

import aio_pika
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.ephemeral import free_port
from devstack.supervisor import ProcessSpec
from domain.contracts import notification_workflow_id
from messaging.messages import OutboundTelegram
from messaging.topology import declare_exchange, telegram_routing_key
from settings import Settings
from tests.notifications.helpers import (
    Phone,
    create_ticket,
    mensaje,
    start_bridge,
    wait_mensaje,
)
from tests.support.data import chat_id
from tests.support.stack import Stack
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e
SECOND = "bridge-2"


@pytest.fixture
async def second(stack: Stack, phone: Phone) -> AsyncIterator[ProcessSpec]:
    """The spec of a second bridge (own metrics port); stopped after, the stack's one back."""
    normal = stack.spec("bridge")
    env = {**(normal.env or {}), "BRIDGE_METRICS_PORT": str(free_port())}
    yield dataclasses.replace(normal, name=SECOND, env=env)
    if stack.supervisor.running(SECOND):
        await stack.supervisor.stop(SECOND)
    if not stack.supervisor.running("bridge"):
        await start_bridge(stack, phone.sandbox, normal)


async def start_consuming(stack: Stack, spec: ProcessSpec) -> None:
    """Start a bridge that may not poll (another one does): wait for it to consume."""
    seen = len(consuming_lines(stack, spec.name))
    await stack.supervisor.start(spec)

    async def consuming() -> bool:
        return len(consuming_lines(stack, spec.name)) > seen

    await eventually(consuming, timeout=20, what=f"{spec.name} consuming")


def consuming_lines(stack: Stack, name: str) -> list[str]:
    try:
        return [line for line in stack.supervisor.output(name) if "bridge consuming" in line]
    except KeyError:
        return []


async def copy_of_created_message(db: AsyncEngine, reference: str) -> OutboundTelegram:
    """The notification the workflow published for a new ticket, rebuilt from its rows."""
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT m.id, m.chat_id, m.text, t.created_at FROM mensaje m"
                    " JOIN ticket t ON t.reference = m.ticket_reference"
                    " WHERE m.ticket_reference = :r AND m.type = 'TICKET_CREATED'"
                ),
                {"r": uuid.UUID(reference)},
            )
        ).one()
    return OutboundTelegram(
        message_id=row.id,
        kind="TICKET_CREATED",
        chat_id=row.chat_id,
        text=row.text,
        ticket_reference=uuid.UUID(reference),
        workflow_id=notification_workflow_id(uuid.UUID(reference), "TICKET_CREATED"),
        ticket_created_at=row.created_at,
        attempt=0,
    )


async def publish(stack: Stack, out: OutboundTelegram, copies: int) -> None:
    """What a redelivery or a re-run enqueue does: the same message on the queue again."""
    connection = await aio_pika.connect_robust(stack.env["RABBITMQ_URL"])
    try:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, Settings().rabbitmq_exchange)
        for _ in range(copies):
            await exchange.publish(
                aio_pika.Message(
                    body=out.model_dump_json().encode(),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=str(out.message_id),
                ),
                routing_key=telegram_routing_key(out.kind),
            )
    finally:
        await connection.close()


async def test_a_message_both_bridges_get_is_sent_once(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, phone: Phone, second: ProcessSpec
) -> None:
    await start_consuming(stack, second)
    before = (await phone.send_calls()).get("timeout", 0)
    await phone.fault("timeout", delay_seconds=4)  # the first send hangs, then 504
    chat = chat_id()
    ticket = await create_ticket(api, telegramChatId=chat)

    async def hanging() -> bool:
        return (await phone.send_calls()).get("timeout", 0) > before

    await eventually(hanging, timeout=15, what="the first send to hang")
    # Meanwhile copies reach both bridges (round robin): only the sender may send.
    await publish(stack, await copy_of_created_message(db, str(ticket["reference"])), copies=4)

    await phone.wait_messages(chat, 1, within=20)
    reference = str(ticket["reference"])

    async def settled() -> bool:
        # The hung attempt and its inline retry both recorded (the sender is done), or
        # a second message arrived (a copy was sent by another bridge).
        row = await mensaje(db, reference)
        return (row.state == "SENT" and row.attempts == 2) or len(await phone.messages(chat)) > 1

    await eventually(settled, timeout=20, what="the sender done")
    assert len(await phone.messages(chat)) == 1
    await wait_mensaje(db, reference, "SENT")


async def test_cancel_on_one_bridge_confirm_on_the_other(
    stack: Stack, api: httpx.AsyncClient, phone: Phone, second: ProcessSpec
) -> None:
    chat = chat_id()
    ticket = await create_ticket(api, telegramChatId=chat)
    number, reference = str(ticket["number"]), str(ticket["reference"])
    await phone.wait_messages(chat, 1)

    await phone.send(chat, "/cancelar")  # only the stack's bridge runs
    prompt = (await phone.wait_messages(chat, 2))[-1]["text"]
    assert "/confirmar" in prompt and number in prompt

    await stack.supervisor.stop("bridge")
    await start_bridge(stack, phone.sandbox, second)
    await phone.send(chat, "/confirmar")  # only the second bridge runs

    async def cancelled() -> bool:
        resp = await api.get(f"/api/tickets/{reference}")
        return bool(resp.json()["status"] == "CANCELLED")

    await eventually(cancelled, timeout=15, what="the ticket CANCELLED")
    cancel_message = (await phone.wait_messages(chat, 3))[-1]["text"]
    assert number in cancel_message and "anulado" in cancel_message


async def each_answered_once(phone: Phone, chats: list[int]) -> None:
    """Every chat's /estado answered; then nothing pending in the sandbox and one answer each."""
    for chat in chats:
        await phone.wait_messages(chat, 1, within=20)

    async def confirmed() -> bool:
        return not (await phone.sandbox.get("/sandbox/updates")).json()["pending"]

    await eventually(confirmed, timeout=30, what="every update confirmed to Telegram")
    counts = {chat: len(await phone.messages(chat)) for chat in chats}
    assert set(counts.values()) == {1}, counts


async def test_the_other_bridge_takes_over_polling_and_no_update_is_handled_twice(
    stack: Stack, phone: Phone, second: ProcessSpec
) -> None:
    await start_consuming(stack, second)
    chats = [chat_id() for _ in range(6)]
    for chat in chats:
        await phone.send(chat, "/estado")
    await each_answered_once(phone, chats)

    for victim, survivor in (("bridge", SECOND), (SECOND, "bridge")):
        await stack.supervisor.kill(victim)
        killed = time.monotonic()
        later = [chat_id() for _ in range(6)]
        for chat in later:
            await phone.send(chat, "/estado")
        await phone.wait_messages(later[0], 1, within=20)
        # The lock is free when the victim's session ends; the standby retries every second.
        takeover = time.monotonic() - killed
        print(f"polling taken over {takeover:.1f}s after SIGKILL of {victim}")
        assert takeover < 10
        await each_answered_once(phone, later)  # only the survivor can have answered
        assert stack.supervisor.running(survivor)
        spec = second if victim == SECOND else stack.spec("bridge")
        await start_consuming(stack, spec)

    await each_answered_once(phone, chats)  # still once, after both fail-overs
