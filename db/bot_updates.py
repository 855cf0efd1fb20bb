"""`bot_update`: Telegram update ids a bridge has taken, so each is handled once.

Taken before it is handled: a repeat (a new poller after a leader died
mid-batch, a webhook retry reaching another bridge) is dropped. A bridge that
dies mid-command loses that one command (the customer sends it again) rather
than answering it twice. Ids are kept a day.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def take(engine: AsyncEngine, update_id: int, fingerprint: str) -> bool:
    """True for the first caller with this update, False for every repeat of it.

    An id already taken with another fingerprint is a new update reusing the id.
    """
    async with engine.begin() as conn:
        taken = (
            await conn.execute(
                text(
                    "INSERT INTO bot_update (update_id, fingerprint) VALUES (:u, :f)"
                    " ON CONFLICT (update_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
                    " taken_at = now() WHERE bot_update.fingerprint <> EXCLUDED.fingerprint"
                    " RETURNING update_id"
                ),
                {"u": update_id, "f": fingerprint[:80]},
            )
        ).first()
    return taken is not None


async def forget_old(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            text("DELETE FROM bot_update WHERE taken_at < now() - interval '1 day'")
        )
    return int(result.rowcount or 0)
