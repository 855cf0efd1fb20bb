"""Connections for lookups on a request path, without a transaction around them.

SQLAlchemy begins a transaction on a connection's first statement and rolls it back when
the connection goes back to the pool: BEGIN and ROLLBACK are two more round trips to
PostgreSQL than the one SELECT a lookup needs. In AUTOCOMMIT the asyncpg dialect sends
neither (switching is an attribute, no round trip). Only for reads whose statements do not
need one snapshot together (each is consistent on its own, and its answer is cached for
seconds or used once).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


@asynccontextmanager
async def lookup(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection in AUTOCOMMIT (one round trip per statement)."""
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")
