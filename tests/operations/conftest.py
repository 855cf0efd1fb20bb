"""Operations tests: a scratch copy of the schema per module (restores never touch the
stack's database), the stack's Temporal dev server, and an ops worker run in-test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from devstack import services
from settings import Settings
from tests.support.stack import PG, Stack, migrate


@pytest.fixture(scope="module")
async def scratch_db(stack: Stack) -> AsyncIterator[str]:
    """A migrated database of its own for this module (dropped afterwards)."""
    url = PG.format(user="ticketero", db=f"ticketero_ops_{os.getpid()}_{uuid.uuid4().hex[:8]}")
    await services.ensure_database(url)
    await migrate(url)
    yield url
    await services.drop_database(url, drop_role=False)


@pytest.fixture(scope="module")
async def engine(scratch_db: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(scratch_db)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
async def temporal(stack: Stack) -> Client:
    return await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)


@pytest.fixture
def ops_settings(scratch_db: str, stack: Stack, tmp_path: Path) -> Settings:
    """Settings of an ops worker on a queue of its own, with folders in tmp_path."""
    (tmp_path / "logs").mkdir()
    return Settings(
        _env_file=None,
        database_url=scratch_db,
        temporal_address=stack.temporal_address,
        temporal_task_queue=f"ops-test-{uuid.uuid4().hex[:10]}",
        backup_dir=tmp_path / "backups",
        log_dir=tmp_path / "logs",
        deploy_health_url=f"{stack.api_url}/actuator/health",
        sandbox_host="127.0.0.1",
        sandbox_port=int(stack.env["SANDBOX_PORT"]),
        telegram_bot_token="",
        container_engine="none",
    )
