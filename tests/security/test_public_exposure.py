"""A busy branch, read as an outsider: no public stream or page shows a reference, a deep-link
payload, a national id (raw or masked) or a chat id.

Every GET route of the OpenAPI document is read without credentials (the event streams
for the whole busy period), plus the pages outside it (`/`, the branch's kiosk and board,
`/docs`, `/redoc`) and the pages' scripts.
`GET /api/tickets/{reference}` is the holder's capability: it needs the reference, so
it is read with an unknown one here.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.national_id import mask_national_id, rut_check_digit
from tests.notifications.helpers import Phone
from tests.security.sse import Feed, open_feed
from tests.support.branches import add_branch
from tests.support.data import chat_id, national_id, ticket_body
from tests.support.staff import add_advisor
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
EXTRA_PAGES = (
    "/",
    "/?lang=en",
    "/kiosk/{branch}",
    "/kiosk/{branch}?lang=en",
    "/display/{branch}",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/static/kiosk.js",
    "/static/board.js",
)
STREAM_SECONDS = 3.0


def fresh_rut() -> str:
    body = str(random.randint(30_000_000, 49_999_999))
    return f"{body}-{rut_check_digit(body)}"


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


async def get_routes(api: httpx.AsyncClient) -> list[tuple[str, list[str]]]:
    """Every GET route of the OpenAPI document: its template and required query names."""
    doc = (await api.get("/openapi.json")).json()
    routes = []
    for template, operations in doc["paths"].items():
        if "get" in operations:
            parameters = operations["get"].get("parameters", [])
            query = [p["name"] for p in parameters if p["in"] == "query" and p.get("required")]
            routes.append((template, query))
    return routes


def urls(
    routes: list[tuple[str, list[str]]], values: dict[str, str], *, pages: bool = True
) -> list[str]:
    filled = []
    for template, query in routes:
        path = fill(template, values)
        params = {name: values.get(name, "1") for name in query}
        filled.append(str(httpx.URL(path, params=params)) if params else path)
    extra = [fill(page, {k: quote(v, safe="") for k, v in values.items()}) for page in EXTRA_PAGES]
    return [*filled, *extra] if pages else filled


async def read_all(api: httpx.AsyncClient, path: str) -> str:
    async with api.stream("GET", path) as resp:
        if resp.headers.get("content-type", "").startswith("text/event-stream"):
            return ""  # a stream: read while the branch was busy
        await resp.aread()
        return f"{path} {resp.status_code}\n{resp.text}"


async def test_no_public_page_or_stream_of_a_busy_branch_leaks_a_secret(
    api: httpx.AsyncClient, db: AsyncEngine, phone: Phone
) -> None:
    branch = await add_branch(api)
    values = {
        "branch": branch,
        "branchOffice": branch,
        "queue": "CAJA",
        "number": "C01",
        "reference": str(uuid.uuid4()),
        "advisor_id": "1",
        "workflow_id": "none",
    }
    routes = await get_routes(api)
    streams: list[Feed] = []
    async with contextlib.AsyncExitStack() as opened:
        # Every public stream, open for the whole busy period.
        for path in urls(routes, values):
            feed = await opened.enter_async_context(open_feed(api, path))
            content_type = feed.response.headers.get("content-type", "")
            if feed.response.status_code == 200 and content_type.startswith("text/event-stream"):
                streams.append(feed)

        secrets, numbers = await make_branch_busy(api, db, phone, branch)

        async def display_called_twice() -> bool:
            texts = "\n".join(f.text for f in streams)
            return texts.count('"CALL"') >= 2

        await eventually(display_called_twice, timeout=20, what="two CALLs on the display")
        await asyncio.sleep(STREAM_SECONDS)

    bodies = [f"{f.response.url}\n{f.text}" for f in streams]
    by_number = [r for r in routes if "{number}" in r[0]]
    assert by_number, "the public position route"
    for number in numbers:
        for url in urls(by_number, {**values, "number": number}, pages=False):
            bodies.append(await read_all(api, url))
    bodies += [await read_all(api, url) for url in urls(routes, values)]

    leaks = [(what, body.split("\n", 1)[0]) for body in bodies for what in secrets if what in body]
    assert not leaks, leaks
    for feed in streams:
        assert not UUID.search(feed.text), feed.text[:2000]
    assert any("/display/events" in str(f.response.url) for f in streams), routes
    assert any(n in "\n".join(bodies) for n in numbers)  # the screens did show numbers
    kiosk = next(b for b in bodies if b.startswith(f"/kiosk/{quote(branch, safe='')} 200"))
    assert 'data-queue="CAJA"' in kiosk  # the pages were read, not refused


async def make_branch_busy(
    api: httpx.AsyncClient, db: AsyncEngine, phone: Phone, branch: str
) -> tuple[set[str], list[str]]:
    """Tickets with national ids and chats, some called and one in service. Returns every
    secret that must not appear publicly, and the ticket numbers."""
    secrets: set[str] = set()
    tickets: list[dict[str, Any]] = []
    people = [national_id(), fresh_rut(), national_id(), fresh_rut(), national_id()]
    for n, person in enumerate(people):
        extra: dict[str, Any] = {"nationalId": person}
        if n % 2 == 0:
            extra["telegramChatId"] = chat = chat_id()
            secrets.add(str(chat))
        headers = {"Idempotency-Key": f"kiosk-{uuid.uuid4()}"} if n == 1 else {}
        resp = await api.post("/api/tickets", json=ticket_body(branch, **extra), headers=headers)
        assert resp.status_code == 201, resp.text
        tickets.append(resp.json())
        secrets |= {person, mask_national_id(person)}
    linked = chat_id()
    await phone.start(linked, str(tickets[1]["telegramLink"]).split("start=", 1)[1])
    await phone.wait_messages(linked, 1)
    secrets.add(str(linked))
    for ticket in tickets:
        reference = uuid.UUID(ticket["reference"])
        payload = str(ticket["telegramLink"]).split("start=", 1)[1]
        secrets |= {str(reference), reference.hex, payload}

    first = await add_advisor(db, api, branch, desk=4, queues=["CAJA"])
    second = await add_advisor(db, api, branch, desk=5, queues=["CAJA"])
    for advisor in (first, second):
        called = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
        assert called.status_code == 200, called.text
    started = await api.post(f"/api/tickets/{tickets[0]['reference']}/start", headers=first.headers)
    assert started.status_code == 200, started.text
    return secrets, [str(t["number"]) for t in tickets]
