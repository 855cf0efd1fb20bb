"""Live feeds: the staff feed needs a staff token of the branch; the public display feed
shows numbers, desks and waiting counts only; both are limited per client and in total."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.security.conftest import Caller
from tests.security.sse import Feed, open_feed
from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.stack import Stack
from tests.support.staff import add_advisor, add_user
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)


async def test_staff_feed_needs_a_staff_token_of_the_branch(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch, other = await add_branch(api), await add_branch(api)
    path = f"/api/branches/{branch}/events"

    async with open_feed(api, path) as feed:  # (a stream must not hang the test)
        anonymous = feed.response
    assert anonymous.status_code == 401, anonymous.headers
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["status"] == 401 and anonymous.json()["path"] == path

    stranger = await add_advisor(db, api, other, desk=1, queues=["CAJA"])
    async with open_feed(api, path, stranger.headers) as feed:
        refused = feed.response
    assert refused.status_code == 403, refused.headers

    own = await add_advisor(db, api, branch, desk=2, queues=["CAJA"])
    supervisor = await add_user(db, api, "supervisor")
    for staff in (own, supervisor):
        async with open_feed(api, path, staff.headers) as feed:
            assert feed.response.status_code == 200
            assert feed.response.headers["content-type"].startswith("text/event-stream")


async def test_display_feed_shows_numbers_desks_and_waiting_counts(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    first = (await api.post("/api/tickets", json=ticket_body(branch))).json()
    async with open_feed(api, f"/api/branches/{branch}/display/events") as feed:
        assert feed.response.status_code == 200, feed.text
        assert feed.response.headers["content-type"].startswith("text/event-stream")
        await eventually(lambda: _has(feed, "waiting"), timeout=10, what="the waiting snapshot")
        second = (await api.post("/api/tickets", json=ticket_body(branch))).json()

        async def create_seen() -> bool:
            # The first ticket's own CREATE may come too: it is published after its answer.
            return any(
                e["type"] == "CREATE" and e["number"] == second["number"] for e in feed.of("ticket")
            )

        await eventually(create_seen, timeout=15, what="the CREATE on the display")
        advisor = await add_advisor(db, api, branch, desk=7, queues=["CAJA"])
        called = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
        assert called.status_code == 200, called.text

        async def call_seen() -> bool:
            return any(e["type"] == "CALL" for e in feed.of("ticket"))

        await eventually(call_seen, timeout=15, what="the CALL on the display")

    [snapshot] = feed.of("waiting")
    assert snapshot["waiting"]["CAJA"] == 1 and set(snapshot) == {"waiting", "at"}
    events = feed.of("ticket")
    create = next(e for e in events if e["type"] == "CREATE" and e["number"] == second["number"])
    call = next(e for e in events if e["type"] == "CALL")
    assert create["number"] == second["number"] and create["queue"] == "CAJA"
    assert create["desk"] is None and create["waiting"]["CAJA"] == 2
    assert call["number"] == first["number"] and call["desk"] == 7
    assert call["waiting"]["CAJA"] == 1
    for event in events:
        assert set(event) == {"type", "number", "queue", "desk", "at", "waiting"}
    # Event ids count up per stream: never a ticket's or an event's id.
    ids = [f.id for f in feed.frames]
    assert ids == [str(n) for n in range(1, len(ids) + 1)]
    assert not UUID.search(feed.text)


async def _has(feed: Feed, event: str) -> bool:
    return bool(feed.of(event))


async def test_streams_are_limited_per_client_and_released_on_disconnect(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, caller: Caller
) -> None:
    """Default SSE_MAX_PER_CLIENT is 5: the sixth stream of one address is a 429. The
    streams come from an address of their own (a board page open in the session's
    browser holds streams from 127.0.0.1)."""
    branch = await add_branch(api)
    supervisor = await add_user(db, api, "supervisor")
    display = f"/api/branches/{branch}/display/events"
    staff = f"/api/branches/{branch}/events"
    async with caller() as client:
        async with contextlib.AsyncExitStack() as streams:
            for n in range(5):
                path, headers = (staff, supervisor.headers) if n == 0 else (display, None)
                feed = await streams.enter_async_context(open_feed(client, path, headers))
                assert feed.response.status_code == 200, feed.text
            for path, headers in ((display, None), (staff, supervisor.headers)):
                over_feed = await streams.enter_async_context(open_feed(client, path, headers))
                over = over_feed.response
                assert over.status_code == 429, over.headers
                assert int(over.headers["retry-after"]) > 0
                body = over.json()
                assert body["status"] == 429 and body["error"] == "Too Many Requests"
                assert body["path"] == path and body["message"] and body["timestamp"]

        async def released() -> bool:
            async with open_feed(client, display) as again:
                return again.response.status_code == 200

        await eventually(released, timeout=10, what="the slots given back on disconnect")
        await asyncio.sleep(0.5)
    log = Path(stack.supervisor.log_dir or ".") / "api.log"
    errors = [line for line in log.read_text().splitlines() if '"ERROR"' in line]
    assert not [e for e in errors if "/events" in e], errors[-3:]
    assert "aclose()" not in log.read_text()
