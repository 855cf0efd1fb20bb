"""An update reaching two bridges (webhook retries, a new polling leader) is handled once."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.updates import ChatMessage, UpdateHandler
from db import bot_updates


def update(update_id: int, chat: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {"chat": {"id": chat, "type": "private"}, "text": text},
    }


def bridge(db: AsyncEngine, seen: list[tuple[str, int]], name: str) -> UpdateHandler:
    async def on_message(msg: ChatMessage) -> None:
        seen.append((name, msg.update_id))

    async def take(update_id: int) -> bool:
        return await bot_updates.take(db, update_id)

    return UpdateHandler(on_message, take=take)


async def test_each_update_is_handled_by_one_of_two_bridges(db: AsyncEngine) -> None:
    seen: list[tuple[str, int]] = []
    one, two = bridge(db, seen, "one"), bridge(db, seen, "two")
    first = random.randint(10**12, 2 * 10**12)  # ids no other test uses
    updates = [update(first + i, 5000 + i % 3, "/estado") for i in range(20)]

    await asyncio.gather(*(h.handle(u) for u in updates for h in (one, two)))
    await one.handle(updates[0])  # a late repeat

    assert sorted(uid for _, uid in seen) == [first + i for i in range(20)]
