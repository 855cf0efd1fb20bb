"""Staff follow their branch live over Server-Sent Events (the staff feed needs a token)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.staff import add_advisor, add_user
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


async def read_events(resp: httpx.Response, out: list[dict[str, Any]]) -> None:
    event = None
    async for line in resp.aiter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "ticket":
            out.append(json.loads(line.removeprefix("data: ")))


async def test_display_sees_its_branch_only(api: httpx.AsyncClient, db: AsyncEngine) -> None:
    branch, other = await add_branch(api), await add_branch(api)
    seen: list[dict[str, Any]] = []
    supervisor = await add_user(db, api, "supervisor")
    path = f"/api/branches/{branch}/events"
    async with api.stream("GET", path, headers=supervisor.headers) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        reader = asyncio.create_task(read_events(resp, seen))
        try:
            await api.post("/api/tickets", json=ticket_body(other))
            mine = (await api.post("/api/tickets", json=ticket_body(branch, "EMPRESAS"))).json()
            advisor = await add_advisor(db, api, branch, desk=3, queues=["EMPRESAS"])
            await api.post("/api/advisors/me/call-next", headers=advisor.headers)

            async def called() -> bool:
                return any(e["action"] == "CALL" for e in seen)

            await eventually(called, timeout=15, what="the CALL event on the display")
        finally:
            reader.cancel()
    assert {e["branch"] for e in seen} == {branch}
    create, call = seen[0], next(e for e in seen if e["action"] == "CALL")
    assert create["action"] == "CREATE" and create["number"] == mine["number"]
    assert call["desk"] == 3 and call["status"] == "CALLED" and call["number"] == "E01"
