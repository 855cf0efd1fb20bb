"""An update reaching two bridges (webhook retries, a new polling leader) is handled once."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.updates import ChatMessage, UpdateHandler
from db import bot_updates


def update(update_id: int, chat: int, text: str, date: int = 1_700_000_000) -> dict[str, object]:
    message = {"message_id": 7, "date": date, "chat": {"id": chat, "type": "private"}}
    return {"update_id": update_id, "message": {**message, "text": text}}


def bridge(db: AsyncEngine, seen: list[tuple[str, int]], name: str) -> UpdateHandler:
    async def on_message(msg: ChatMessage) -> None:
        seen.append((name, msg.update_id))

    async def take(msg: ChatMessage) -> bool:
        return await bot_updates.take(db, msg.update_id, msg.fingerprint)

    return UpdateHandler(on_message, take=take)


async def test_each_update_is_handled_by_one_of_two_bridges(db: AsyncEngine) -> None:
    seen: list[tuple[str, int]] = []
    one, two = bridge(db, seen, "one"), bridge(db, seen, "two")
    first = random.randint(10**12, 2 * 10**12)  # ids no other test uses
    updates = [update(first + i, 5000 + i % 3, "/estado") for i in range(20)]

    await asyncio.gather(*(h.handle(u) for u in updates for h in (one, two)))
    await one.handle(updates[0])  # a late repeat

    assert sorted(uid for _, uid in seen) == [first + i for i in range(20)]


async def test_a_reused_update_id_with_another_message_is_a_new_update(db: AsyncEngine) -> None:
    """A restarted sandbox (or Telegram after a quiet week) numbers updates again."""
    seen: list[tuple[str, int]] = []
    one = bridge(db, seen, "one")
    uid = random.randint(10**12, 2 * 10**12)
    await one.handle(update(uid, 5001, "/estado", date=1_700_000_000))
    await bridge(db, seen, "restarted").handle(update(uid, 5001, "/estado", date=1_700_086_400))
    assert seen == [("one", uid), ("restarted", uid)]
