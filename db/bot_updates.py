"""`bot_update`: Telegram update ids a bridge has taken, so each is handled once.

Taken before it is handled: a repeat (a new poller after a leader died
mid-batch, a webhook retry reaching another bridge) is dropped. A bridge that
dies mid-command loses that one command (the customer sends it again) rather
than answering it twice. Ids are kept a day.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def take(engine: AsyncEngine, update_id: int) -> bool:
    """True for the first caller with this id, False for every repeat."""
    async with engine.begin() as conn:
        taken = (
            await conn.execute(
                text(
                    "INSERT INTO bot_update (update_id) VALUES (:u)"
                    " ON CONFLICT DO NOTHING RETURNING update_id"
                ),
                {"u": update_id},
            )
        ).first()
    return taken is not None


async def forget_old(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            text("DELETE FROM bot_update WHERE taken_at < now() - interval '1 day'")
        )
    return int(result.rowcount or 0)
