"""Session fixtures: one real stack (PostgreSQL, RabbitMQ, Temporal, our processes) per run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.support.stack import Stack, start_stack, stop_stack


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    log_dir = Path(os.environ.get("TICKETERO_TEST_LOGS", tmp_path_factory.mktemp("stack")))
    running = await start_stack(log_dir)
    try:
        yield running
    finally:
        await stop_stack(running)


@pytest.fixture(scope="session")
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="session")
async def sandbox(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="session")
async def db(stack: Stack) -> AsyncIterator[AsyncEngine]:
    """An engine on the stack's database, for arranging data the API cannot create."""
    engine = create_async_engine(stack.database_url)
    yield engine
    await engine.dispose()
