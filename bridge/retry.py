"""Retries of infrastructure calls (PostgreSQL, Temporal) that must eventually succeed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger("ticketero.bridge")
T = TypeVar("T")
BACKOFF_MAX = 5.0
#: Temporal answers that say "try again", unlike NOT_FOUND or INVALID_ARGUMENT.
_TRANSIENT_RPC = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.CANCELLED,
}


#: SQLSTATE classes of a database that is away or full (connection exceptions, too many
#: connections, shutting down), as opposed to an answer about the data.
_DATABASE_AWAY = ("08", "53", "57P01", "57P02", "57P03")


def is_transient(err: BaseException) -> bool:
    if isinstance(err, RPCError):
        return err.status in _TRANSIENT_RPC
    if isinstance(err, OSError | httpx.TransportError | ConnectionError | TimeoutError):
        return True
    if isinstance(err, OperationalError | InterfaceError):
        return True
    if not isinstance(err, DBAPIError):
        return False
    sqlstate = str(getattr(err.orig, "sqlstate", None) or "")
    return err.connection_invalidated or sqlstate.startswith(_DATABASE_AWAY)


async def retrying(op: Callable[[], Awaitable[T]], *, give_up_after: float | None = None) -> T:
    """Retry transient failures with capped backoff; forever unless `give_up_after` seconds."""
    deadline = None if give_up_after is None else time.monotonic() + give_up_after
    delay = 0.1
    while True:
        try:
            return await op()
        except Exception as err:
            if not is_transient(err):
                raise
            if deadline is not None and time.monotonic() + delay > deadline:
                raise
            log.warning("retrying after %s", type(err).__name__)
        await asyncio.sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX)
