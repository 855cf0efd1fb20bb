"""Server-Sent Events for branch displays: every ticket event of one branch, live."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.errors import ApiError
from api.live import LiveHub

router = APIRouter(prefix="/api/branches", tags=["live"])
KEEPALIVE_SECONDS = 15.0


@router.get("/{branch}/events", response_class=StreamingResponse)
async def branch_events(branch: str, request: Request) -> StreamingResponse:
    """`text/event-stream` of `ticket` events (number, queue, action, status, desk, at)."""
    name = " ".join(branch.split())
    if not name or len(name) > 100:
        raise ApiError(422, "must be 1 to 100 characters", field="branch")
    hub: LiveHub = request.app.state.live
    try:
        await asyncio.wait_for(hub.connect(), 5)
    except (OSError, TimeoutError, ConnectionError):
        raise ApiError(503, "live events unavailable", headers={"Retry-After": "5"}) from None
    events = hub.subscribe(name)

    async def stream() -> AsyncIterator[bytes]:
        yield b": conectado\n\n"
        pending: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(anext(events))
        try:
            while not await request.is_disconnected():
                done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_SECONDS)
                if not done:
                    yield b": keepalive\n\n"
                    continue
                yield f"event: ticket\ndata: {json.dumps(pending.result())}\n\n".encode()
                pending = asyncio.ensure_future(anext(events))
        finally:
            pending.cancel()
            await events.aclose()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
