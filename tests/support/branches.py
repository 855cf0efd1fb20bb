"""Branches for tests: customers cannot create one, so tests register theirs first.

`add_branch(api, prefix)` registers a fresh, uniquely named branch through
`POST /api/branches` as the stack's bootstrap supervisor (its credentials are in the
test stack's environment, see tests/support/stack.py); `add_branch_in_db` does the
same straight in the database, for code that has an engine but no API.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.ephemeral import BOOTSTRAP_PASSWORD, BOOTSTRAP_USERNAME
from tests.support.data import branch_name

TIME_ZONE = "America/Santiago"

_tokens: dict[str, str] = {}


async def bootstrap_headers(api: httpx.AsyncClient) -> dict[str, str]:
    """The bootstrap supervisor's bearer header on this API (logged in once per URL)."""
    key = str(api.base_url)
    if key not in _tokens:
        resp = await api.post(
            "/api/auth/token",
            data={"username": BOOTSTRAP_USERNAME, "password": BOOTSTRAP_PASSWORD},
        )
        assert resp.status_code == 200, resp.text
        _tokens[key] = str(resp.json()["access_token"])
    return {"Authorization": f"Bearer {_tokens[key]}"}


async def add_branch(
    api: httpx.AsyncClient,
    prefix: str = "Sucursal",
    *,
    time_zone: str = TIME_ZONE,
    headers: dict[str, str] | None = None,
) -> str:
    """Register a new branch (default queues) through the API; its name. It is open at
    all hours, so tests take tickets whatever the time of day the suite runs at (tests of
    opening hours register their branches with explicit hours)."""
    name = branch_name(prefix)
    resp = await api.post(
        "/api/branches",
        json={"name": name, "timeZone": time_zone, "openAllHours": True},
        headers=headers or await bootstrap_headers(api),
    )
    assert resp.status_code == 201, resp.text
    return name


async def add_branch_in_db(
    db: AsyncEngine, prefix: str = "Sucursal", *, time_zone: str = TIME_ZONE
) -> str:
    from db.branches import create_branch

    name = branch_name(prefix)
    async with db.begin() as conn:
        assert await create_branch(conn, name, time_zone, open_all_hours=True) is not None
    return name
