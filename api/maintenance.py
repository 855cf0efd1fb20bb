"""Refuse writes while the application is in maintenance (a restore is replacing the data).

A pure ASGI middleware (no BaseHTTPMiddleware: streaming and background tasks are
untouched). While `app_state.maintenance` is true, every request under /api/ that
may write (anything but GET, HEAD, OPTIONS) answers 503 with Retry-After; logging
in (/api/auth/) keeps working. The flag is read at most once per second, so the
check costs one query per second per process, not one per request, and waits at most
READ_SECONDS for it (a database that does not answer keeps the last reading).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body, scope_message
from db.ops import MaintenanceState, get_maintenance

log = logging.getLogger("ticketero.api.maintenance")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CACHE_SECONDS = 1.0
RETRY_AFTER_SECONDS = 30
#: The longest a write waits for a fresh reading of the flag.
READ_SECONDS = 0.5


class MaintenanceMiddleware:
    """503 for writes under /api/ while in maintenance.

    `engine` defaults to the app's (`app.state.resources.engine`, set in the lifespan).
    """

    def __init__(
        self,
        app: ASGIApp,
        engine: AsyncEngine | None = None,
        *,
        exempt_prefixes: Sequence[str] = ("/api/auth/",),
        cache_seconds: float = CACHE_SECONDS,
        retry_after: int = RETRY_AFTER_SECONDS,
    ) -> None:
        self._app = app
        self._engine = engine
        self._exempt = tuple(exempt_prefixes)
        self._ttl = cache_seconds
        self._retry_after = retry_after
        self._state = MaintenanceState(False, None, None)
        self._read_at = float("-inf")
        self._reading: asyncio.Future[None] | None = None

    def _guarded(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        return (
            scope["type"] == "http"
            and scope.get("method", "GET") not in READ_METHODS
            and path.startswith("/api/")
            and not path.startswith(self._exempt)
        )

    def _engine_of(self, scope: Scope) -> AsyncEngine | None:
        if self._engine is not None:
            return self._engine
        app = scope.get("app")
        resources = getattr(getattr(app, "state", None), "resources", None)
        engine = getattr(resources, "engine", None)
        return engine if isinstance(engine, AsyncEngine) else None

    async def _current(self, scope: Scope) -> MaintenanceState:
        now = time.monotonic()
        if now - self._read_at < self._ttl:
            return self._state
        engine = self._engine_of(scope)
        if engine is None:
            return self._state
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self._read(engine))
        # A slow database must not add its wait to every write: past READ_SECONDS the
        # last reading stands and the read finishes (or fails) on its own.
        await asyncio.wait({self._reading}, timeout=READ_SECONDS)
        self._read_at = now
        return self._state

    async def _read(self, engine: AsyncEngine) -> None:
        try:
            self._state = await get_maintenance(engine)
        except (SQLAlchemyError, OSError) as err:
            # Database away: the request itself will answer 503; keep the last reading.
            log.warning("maintenance flag unreadable: %s", type(err).__name__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._guarded(scope):
            state = await self._current(scope)
            if state.enabled:
                reason = state.reason or "operación programada"
                message = scope_message(scope, "maintenance.on", reason=reason)
                body = error_body(503, message, scope.get("path", ""))
                response = JSONResponse(
                    body, status_code=503, headers={"Retry-After": str(self._retry_after)}
                )
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)
