"""Server-Sent Events of one branch, live: a staff feed and a public display feed.

- `GET /api/branches/{branch}/events`: every ticket event as the system records it
  (its id names the ticket). Staff only, scoped like every staff route: an advisor
  of that branch, a supervisor of it, or an operator.
- `GET /api/branches/{branch}/display/events`: what a waiting-room screen shows
  (number, queue, desk, event type, time, waiting per queue). Public, so it carries
  nothing that grants anything (api.display).

Both count against the SSE connection limits (api.sse).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.deps import Principal, StaffDep, auth_settings
from api.auth.scope import require_branch_name
from api.deps import ResourcesDep
from api.display import WaitingCounts, display_event
from api.errors import ApiError
from api.live import LiveHub
from api.services import health
from api.sse import EventStreamResponse, client_address, sse_slots
from settings import Settings

router = APIRouter(prefix="/api/branches", tags=["live"])
KEEPALIVE_SECONDS = 15.0
#: How long a new stream waits for the broker (connecting or reconnecting) before a 503.
LIVE_CONNECT_SECONDS = 3.0
SSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "an event stream"},
    429: {"description": "too many live connections (per client or in total); see Retry-After"},
}


def _branch_name(branch: str) -> str:
    name = " ".join(branch.split())
    if not name or len(name) > 100 or not name.isprintable():
        raise ApiError(422, "text.printable_1_100", field="branch")
    return name


async def branch_staff(branch: str, who: StaffDep, res: ResourcesDep) -> Principal:
    """The caller, when they may watch this branch's staff feed: advisors their own
    branch, supervisors their branches (api.auth.scope), operators any branch."""
    await require_branch_name(res.engine, who, _branch_name(branch), must_exist=True)
    return who


async def _open(
    request: Request, branch: str, settings: Settings
) -> tuple[str, Callable[[], None]]:
    """Validate, take a connection slot, and make sure the broker is reachable."""
    name = _branch_name(branch)
    hub: LiveHub = request.app.state.live
    release = sse_slots(request, settings).acquire(client_address(request))
    try:
        await health.require(request.app.state.resources, "rabbit")
    except ApiError:
        release()
        raise
    try:
        await hub.ready(LIVE_CONNECT_SECONDS)
    except (OSError, TimeoutError, ConnectionError):
        release()
        raise ApiError(
            503, "live.unavailable", extra={"dependency": "rabbit"}, headers={"Retry-After": "5"}
        ) from None
    return name, release


async def _next(queue: asyncio.Queue[dict[str, Any]]) -> dict[str, Any] | None:
    """The next event, or None after a keepalive interval without one."""
    try:
        return await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
    except TimeoutError:
        return None


@router.get("/{branch}/events", response_class=EventStreamResponse, status_code=200, responses=SSE)
async def branch_events(
    branch: str,
    request: Request,
    who: Annotated[Principal, Depends(branch_staff)],
    settings: Annotated[Settings, Depends(auth_settings)],
) -> EventStreamResponse:
    """Staff feed: `ticket` events (number, queue, action, status, desk, at, eventId)."""
    name, release = await _open(request, branch, settings)
    hub: LiveHub = request.app.state.live

    async def stream() -> AsyncIterator[bytes]:
        async with hub.subscription(name) as queue:
            yield b": conectado\n\n"
            while True:
                event = await _next(queue)
                if event is None:
                    yield b": keepalive\n\n"
                    continue
                yield f"event: ticket\ndata: {json.dumps(event)}\n\n".encode()

    return EventStreamResponse(stream(), release)


@router.get(
    "/{branch}/display/events", response_class=EventStreamResponse, status_code=200, responses=SSE
)
async def display_events(
    branch: str,
    request: Request,
    res: ResourcesDep,
    settings: Annotated[Settings, Depends(auth_settings)],
) -> EventStreamResponse:
    """Public feed for waiting-room screens: a `waiting` event on connecting (tickets
    waiting per queue), then a `ticket` event per change (`type`, `number`, `queue`,
    `desk`, `at`, `waiting`). Event ids count up per stream."""
    name, release = await _open(request, branch, settings)
    hub: LiveHub = request.app.state.live
    counts = _waiting_counts(request, res.engine)

    async def stream() -> AsyncIterator[bytes]:
        seq = 0
        async with hub.subscription(name) as queue:
            yield b"retry: 5000\n\n"
            waiting = await counts.now(name)
            seq += 1
            snapshot = {"waiting": waiting or {}, "at": datetime.now(UTC).isoformat()}
            yield _frame(seq, "waiting", snapshot)
            while True:
                event = await _next(queue)
                if event is None:
                    yield b": keepalive\n\n"
                    continue
                seq += 1
                shown = display_event(event, await counts.after(name, event))
                yield _frame(seq, "ticket", shown)

    return EventStreamResponse(stream(), release)


def _frame(seq: int, kind: str, data: dict[str, Any]) -> bytes:
    return f"id: {seq}\nevent: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def _waiting_counts(request: Request, engine: AsyncEngine) -> WaitingCounts:
    counts = getattr(request.app.state, "waiting_counts", None)
    if not isinstance(counts, WaitingCounts):
        counts = WaitingCounts(engine)
        request.app.state.waiting_counts = counts
    return counts
