"""Session-level PostgreSQL advisory locks: one holder across every process of the stack.

Held by a connection, not a transaction: it lasts until unlocked or until the
holding session ends, which is what makes a dead holder's lock free again.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def lock_key(name: str) -> int:
    """A stable 32-bit key for a lock name (advisory locks take integers)."""
    return zlib.crc32(name.encode())


async def try_lock(conn: AsyncConnection, key: int) -> bool:
    got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar_one()
    return bool(got)


async def unlock(conn: AsyncConnection, key: int) -> None:
    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


async def still_held(conn: AsyncConnection, key: int) -> bool:
    """A round trip on the holding session: it fails if the session is gone."""
    held = (
        await conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND objid = (:k)::bigint::oid"
            ),
            {"k": key},
        )
    ).scalar_one()
    return bool(held)
