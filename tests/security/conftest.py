"""Shared pieces of the security tests: callers from their own loopback address, and the
sandbox as a phone (as in tests/notifications)."""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr

from settings import DEV_JWT_SECRET, Settings
from tests.notifications.helpers import Phone, bridge_ready
from tests.support.stack import Stack

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
