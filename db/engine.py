"""Async engine factory: one pool per process, sized from settings.

A process on a request path (the API) also bounds every wait on PostgreSQL
(`DbTimeouts`): the pool checkout, the connect and each statement. A database that
refuses, drops or stops answering then surfaces as `DatabaseUnreachable` (an
`OperationalError`) within those bounds, never as a bare `OSError` or `TimeoutError`
and never as a request hanging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from settings import Settings


class DatabaseUnreachable(OperationalError):
    """PostgreSQL did not connect or answer in time (its address is not in the message)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(None, None, cause)

    def __str__(self) -> str:
        return f"database unreachable ({type(self.orig).__name__})"


@dataclass(frozen=True)
class DbTimeouts:
    """Seconds to wait for a pooled connection, a new connection and one statement."""

    checkout: float
    connect: float
    statement: float


#: Errors of the network or of our own deadlines, as opposed to PostgreSQL's answers.
_UNREACHABLE = (OSError, TimeoutError, asyncpg.exceptions.ConnectionDoesNotExistError)


def make_engine(
    settings: Settings,
    *,
    pool_size: int | None = None,
    timeouts: DbTimeouts | None = None,
    probe: bool = False,
) -> AsyncEngine:
    """Build the process-wide engine (or, with `probe`, a two-connection one of its own for
    health probes: a busy request pool is not a database that is down).

    No pre-ping (it costs a round trip per checkout): a connection broken by a
    database restart fails once, is discarded with the rest of the pool (a
    disconnect invalidates the pool), and the caller retries (activities) or answers
    503 (API).
    """
    if timeouts is None:
        return create_async_engine(
            settings.database_url,
            pool_size=pool_size or settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_recycle=1800,
        )
    engine: AsyncEngine

    async def connect() -> Any:
        _, options = engine.dialect.create_connect_args(engine.url)
        options.pop("prepared_statement_cache_size", None)
        options.pop("prepared_statement_name_func", None)
        try:
            return await asyncpg.connect(
                **options, timeout=timeouts.connect, command_timeout=timeouts.statement
            )
        except _UNREACHABLE as err:
            raise DatabaseUnreachable(err) from None

    engine = create_async_engine(
        settings.database_url,
        pool_size=1 if probe else pool_size or settings.db_pool_size,
        max_overflow=1 if probe else settings.db_max_overflow,
        pool_recycle=1800,
        pool_timeout=timeouts.checkout,
        async_creator=connect,
    )
    event.listen(engine.sync_engine, "handle_error", _unreachable_on_timeout)
    return engine


def _unreachable_on_timeout(context: ExceptionContext) -> BaseException | None:
    """A statement past its deadline leaves its connection in an unknown state: drop it
    (and the pool's older ones) and report the database unreachable."""
    if isinstance(context.original_exception, _UNREACHABLE):
        context.is_disconnect = True
        return DatabaseUnreachable(context.original_exception)
    return None
