"""The /cancelar confirmations in PostgreSQL: expiry, single use, shared by every bridge."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.confirmations import Confirmations
from tests.notifications.helpers import create_ticket
from tests.support.data import chat_id


async def test_confirmation_expires_and_is_used_once(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    ref = uuid.UUID(str((await create_ticket(api))["reference"]))
    start = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    now = [start]
    one, other = (Confirmations(db, ttl=300, clock=lambda: now[0]) for _ in range(2))
    chat = chat_id()

    await one.ask(chat, ref, "C05", "es")
    now[0] = start + timedelta(seconds=299)
    pending = await other.take(chat)  # another bridge sees it
    assert pending is not None and pending.reference == ref and pending.number == "C05"
    assert await one.take(chat) is None  # used once
    await one.ask(chat, ref, "C05", "es")
    now[0] = start + timedelta(seconds=700)
    assert await other.take(chat) is None  # expired


async def test_two_concurrent_confirms_take_it_once(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    ref = uuid.UUID(str((await create_ticket(api))["reference"]))
    chat = chat_id()
    store = Confirmations(db)
    await store.ask(chat, ref, "C07", "es")
    taken = await asyncio.gather(*(Confirmations(db).take(chat) for _ in range(5)))
    assert [p.number for p in taken if p is not None] == ["C07"]
