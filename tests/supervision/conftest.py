"""Tokens for the supervision tests: one supervisor, one operator, one advisor per module."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.supervision.helpers import auth
from tests.support.data import branch_name
from tests.support.staff import add_advisor, add_user


@pytest.fixture(scope="module")
async def supervisor(api: httpx.AsyncClient, db: AsyncEngine) -> dict[str, str]:
    return auth((await add_user(db, api, "supervisor")).token)


@pytest.fixture(scope="module")
async def operator(api: httpx.AsyncClient, db: AsyncEngine) -> dict[str, str]:
    return auth((await add_user(db, api, "operator")).token)


@pytest.fixture(scope="module")
async def advisor(api: httpx.AsyncClient, db: AsyncEngine) -> dict[str, str]:
    staff = await add_advisor(db, api, branch_name("Roles"), desk=1, queues=["CAJA"])
    return auth(staff.token)
