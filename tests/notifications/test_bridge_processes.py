"""The bridge as a process: killed or stopped mid-send, and cut off from RabbitMQ."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.notifications.helpers import (
    Phone,
    create_ticket,
    start_bridge,
    wait_mensaje,
)
from tests.support.data import chat_id
from tests.support.stack import Stack
from tests.support.tcp_proxy import TcpProxy
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


async def hanging_send(api: httpx.AsyncClient, phone: Phone) -> tuple[int, str]:
    """A ticket whose first sendMessage hangs in the sandbox (then fails with a 504)."""
    before = (await phone.send_calls()).get("timeout", 0)
    await phone.fault("timeout", delay_seconds=20)
    chat = chat_id()
    ticket = await create_ticket(api, telegramChatId=chat)

    async def hanging() -> bool:
        return (await phone.send_calls()).get("timeout", 0) > before

    await eventually(hanging, timeout=15, what="the send to hang")
    return chat, str(ticket["reference"])


async def test_killed_mid_send_the_message_arrives_once_after_restart(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, phone: Phone
) -> None:
    chat, reference = await hanging_send(api, phone)
    await stack.supervisor.kill("bridge")
    await start_bridge(stack, phone.sandbox, stack.spec("bridge"))

    await phone.wait_messages(chat, 1, within=20)
    row = await wait_mensaje(db, reference, "SENT")
    assert row.attempts == 1  # the killed attempt never got an answer to record
    assert len(await phone.messages(chat)) == 1


async def test_sigterm_mid_send_exits_cleanly_in_time_and_the_message_arrives_once(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, phone: Phone
) -> None:
    chat, reference = await hanging_send(api, phone)
    started = time.monotonic()
    code = await stack.supervisor.stop("bridge")
    assert time.monotonic() - started < 9.5  # the supervisor would SIGKILL at 10 s
    assert code == 0
    await start_bridge(stack, phone.sandbox, stack.spec("bridge"))

    await phone.wait_messages(chat, 1, within=20)
    await wait_mensaje(db, reference, "SENT")
    assert len(await phone.messages(chat)) == 1


async def test_reconnects_after_the_rabbitmq_connection_drops(
    stack: Stack, api: httpx.AsyncClient, phone: Phone
) -> None:
    await stack.supervisor.stop("bridge")
    proxy = TcpProxy("127.0.0.1", 5672)
    port = await proxy.start()
    normal = stack.spec("bridge")
    env = {
        **(normal.env or {}),
        "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{port}/{stack.vhost}",
    }
    spec = dataclasses.replace(normal, name="bridge-proxied", env=env)
    try:
        await start_bridge(stack, phone.sandbox, spec)
        pid = stack.supervisor.pid("bridge-proxied")
        await proxy.cut()
        chat_while_down = chat_id()
        await create_ticket(api, telegramChatId=chat_while_down)  # queued meanwhile
        await proxy.restore()

        await phone.wait_messages(chat_while_down, 1, within=20)
        chat_after = chat_id()
        await create_ticket(api, telegramChatId=chat_after)
        await phone.wait_messages(chat_after, 1)
        assert len(await phone.messages(chat_while_down)) == 1
        # Only a new AMQP connection of the same process can have delivered it.
        assert stack.supervisor.pid("bridge-proxied") == pid
        assert stack.supervisor.running("bridge-proxied")
    finally:
        await stack.supervisor.stop("bridge-proxied")
        await proxy.cut()
        await start_bridge(stack, phone.sandbox, normal)
