"""Server-Sent Events plumbing shared by the live feeds: connection limits and clean ends.

Every open stream holds a slot: at most `SSE_MAX_PER_CLIENT` per client address
and `SSE_MAX_TOTAL` in all, per API process. Over either limit the request is a
429 with `Retry-After` in the project's error shape. The slot is given back when
the response ends, however it ends (the client went away, the server stops);
a client disconnecting is normal traffic, never logged as an error.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.errors import ApiError
from settings import Settings

log = logging.getLogger("ticketero.api.sse")
#: Seconds a refused client is told to wait: slots free up as displays disconnect.
RETRY_AFTER_SECONDS = 5
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class SseSlots:
    """Counts open streams per client address and in total (one event loop: no lock)."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client = per_client
        self.total = total
        self._by_client: Counter[str] = Counter()
        self._open = 0

    @property
    def open(self) -> int:
        return self._open

    def acquire(self, client: str) -> Callable[[], None]:
        """Take a slot for `client`, or raise the 429; returns the (idempotent) release."""
        if self._open >= self.total:
            raise _too_many("live.too_many")
        if self._by_client[client] >= self.per_client:
            raise _too_many("live.too_many_client", max=self.per_client)
        self._by_client[client] += 1
        self._open += 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self._open -= 1
            self._by_client[client] -= 1
            if self._by_client[client] <= 0:
                del self._by_client[client]

        return release


def _too_many(key: str, **params: Any) -> ApiError:
    return ApiError(429, key, params=params, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def client_address(request: Request) -> str:
    """The peer's address (the trusted-proxy rules for X-Forwarded-For live elsewhere)."""
    return request.client.host if request.client is not None else "unknown"


def sse_slots(request: Request, settings: Settings) -> SseSlots:
    """This process's slots, created on first use from the app's settings."""
    slots = getattr(request.app.state, "sse_slots", None)
    if not isinstance(slots, SseSlots):
        slots = SseSlots(settings.sse_max_per_client, settings.sse_max_total)
        request.app.state.sse_slots = slots
    return slots


class EventStreamResponse(StreamingResponse):
    """`text/event-stream` that releases its slot and closes its source when it ends."""

    def __init__(self, content: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream", headers=SSE_HEADERS)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except (ClientDisconnect, OSError):
            log.debug("live stream client went away")
        finally:
            self._release()
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(RuntimeError):
                    await aclose()
