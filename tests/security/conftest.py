"""Shared pieces of the security tests: callers from their own loopback address, the
sandbox as a phone (as in tests/notifications), and a second API process on the session
stack with low limits (the session's own API has a high per-address limit so the rest of
the suite is not throttled)."""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from settings import DEV_JWT_SECRET, Settings
from tests.notifications.helpers import Phone, bridge_ready
from tests.support.extra_api import extra_api
from tests.support.stack import Stack
from tests.support.staff import Staff, add_user

# Linux routes all of 127.0.0.0/8 to the loopback interface, so a test can call the
# stack's API from an address of its own: per-address login limits then count only
# its attempts, not the rest of the session's (which come from 127.0.0.1).
_hosts = itertools.count(random.randint(2, 200))


def fresh_address() -> str:
    n = next(_hosts)
    return f"127.{os.getpid() % 250 + 1}.{n // 250 % 250 + 1}.{n % 250 + 1}"


Caller = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def caller(stack: Stack) -> Caller:
    """Opens a client of the stack's API bound to a fresh 127.x.y.z source address."""

    @asynccontextmanager
    async def open_client() -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.AsyncHTTPTransport(local_address=fresh_address())
        async with httpx.AsyncClient(
            base_url=stack.api_url, transport=transport, timeout=30.0
        ) as client:
            yield client

    return open_client


@pytest.fixture(scope="module")
def stack_settings(stack: Stack) -> Settings:
    """What the stack's API signs and keys with: our environment under the stack's."""
    env = {**os.environ, **stack.env}
    return Settings(
        database_url=stack.database_url,
        jwt_secret=SecretStr(env.get("JWT_SECRET", DEV_JWT_SECRET)),
    )


@pytest.fixture
async def phone(sandbox: httpx.AsyncClient) -> AsyncIterator[Phone]:
    await bridge_ready(sandbox)
    yield Phone(sandbox)


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
    async with extra_api(stack, "api-limited", LIMITED_ENV, ["--no-proxy-headers"]) as client:
        yield client


@pytest.fixture(scope="package")
async def supervisor(api: httpx.AsyncClient, db: AsyncEngine) -> Staff:
    return await add_user(db, api, "supervisor")


@pytest.fixture(scope="package")
async def operator(api: httpx.AsyncClient, db: AsyncEngine) -> Staff:
    return await add_user(db, api, "operator")
