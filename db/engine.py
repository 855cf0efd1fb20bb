"""Async engine factory: one pool per process, sized from settings."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from settings import Settings


def make_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    """Build the process-wide engine.

    No pre-ping (it costs a round trip per checkout): a connection broken by a
    database restart fails once, is discarded, and the caller retries (activities)
    or answers 503 (API).
    """
    return create_async_engine(
        settings.database_url,
        pool_size=pool_size or settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=1800,
    )
