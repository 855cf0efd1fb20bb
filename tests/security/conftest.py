"""A second API process on the session stack with low limits, for the limit tests (the
session's own API has a high per-address limit so the rest of the suite is not throttled)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.supervisor import ProcessSpec
from tests.support.ports import free_port
from tests.support.stack import Stack
from tests.support.staff import Staff, add_user

ADDRESS_LIMIT = 3
LIMITED_ENV = {
    "TICKET_RATE_LIMIT": f"{ADDRESS_LIMIT}/minute",
    "KIOSK_TICKET_RATE_LIMIT": "1000/minute",
    # The tests connect from 127.0.0.1, which is not a trusted proxy here.
    "TRUSTED_PROXIES": "10.99.99.99,192.0.2.0/24",
    "BRANCHES_IN_ERROR_MAX": "5",
}


@pytest.fixture(scope="package")
async def limited_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    spec = ProcessSpec(
        name="api-limited",
        argv=[sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
              "--port", str(port), "--no-proxy-headers"],
        env={**stack.env, **LIMITED_ENV},
        cwd=stack.spec("api").cwd,
        ready_url=f"http://127.0.0.1:{port}/actuator/health/liveness",
    )  # fmt: skip
    await stack.supervisor.start(spec)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        await stack.supervisor.stop("api-limited")


@pytest.fixture(scope="package")
async def supervisor(api: httpx.AsyncClient, db: AsyncEngine) -> Staff:
    return await add_user(db, api, "supervisor")


@pytest.fixture(scope="package")
async def operator(api: httpx.AsyncClient, db: AsyncEngine) -> Staff:
    return await add_user(db, api, "operator")
