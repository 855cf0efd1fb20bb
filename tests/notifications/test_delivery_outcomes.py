"""What the bridge does with each Telegram answer, against the real stack and the sandbox."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.contracts import NotificationOutcome, notification_workflow_id
from tests.notifications.helpers import (
    Phone,
    create_ticket,
    error_count,
    wait_mensaje,
)
from tests.support.data import chat_id
from tests.support.stack import Stack
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


async def test_429_waits_retry_after_then_delivers_once(
    api: httpx.AsyncClient, db: AsyncEngine, phone: Phone
) -> None:
    before = await phone.send_calls()
    await phone.fault("429", retry_after=2)
    consumed_at: list[float] = []

    async def watch_fault() -> None:
        async def consumed() -> bool:
            return await phone.pending_faults() == 0

        await eventually(consumed, timeout=15, interval=0.01, what="the 429 being answered")
        consumed_at.append(time.time())

    watcher = asyncio.create_task(watch_fault())
    chat = chat_id()
    ticket = await create_ticket(api, telegramChatId=chat)
    [message] = await phone.wait_messages(chat, 1)
    await watcher
    await wait_mensaje(db, ticket["reference"], "SENT")

    received = datetime.fromisoformat(str(message["received_at"])).timestamp()
    assert received - consumed_at[0] >= 1.8, "sent again before retry_after had passed"
    after = await phone.send_calls()
    assert after.get("429", 0) - before.get("429", 0) == 1
    assert len(await phone.messages(chat)) == 1


async def test_two_server_errors_then_success_is_delivered_once(
    api: httpx.AsyncClient, db: AsyncEngine, phone: Phone
) -> None:
    errors_before = await error_count(api, "server_error")
    calls_before = await phone.send_calls()
    await phone.fault("500", count=2)
    chat = chat_id()
    ticket = await create_ticket(api, telegramChatId=chat)

    await phone.wait_messages(chat, 1)
    row = await wait_mensaje(db, ticket["reference"], "SENT")
    calls = await phone.send_calls()
    assert calls["total"] - calls_before.get("total", 0) == 3
    assert calls["500"] - calls_before.get("500", 0) == 2
    assert row.attempts == 3  # every HTTP attempt is recorded
    assert await error_count(api, "server_error") - errors_before == 2
    assert len(await phone.messages(chat)) == 1


async def test_403_fails_at_once_and_the_workflow_ends_failed(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, phone: Phone
) -> None:
    errors_before = await error_count(api, "forbidden")
    calls_before = await phone.send_calls()
    await phone.fault("403")
    chat = chat_id()
    ticket = await create_ticket(api, telegramChatId=chat)

    row = await wait_mensaje(db, ticket["reference"], "FAILED")
    assert row.attempts == 1
    assert "forbidden" in row.last_error
    client = await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
    handle = client.get_workflow_handle(
        notification_workflow_id(ticket["reference"], "TICKET_CREATED"),
        result_type=NotificationOutcome,
    )
    outcome = await asyncio.wait_for(handle.result(), 15)
    assert outcome.state == "FAILED"
    calls = await phone.send_calls()
    assert calls["total"] - calls_before.get("total", 0) == 1
    assert await phone.messages(chat) == []
    assert await error_count(api, "forbidden") - errors_before == 1
