"""Fixtures of the auth tests: an engine on the test stack's database and fresh staff data."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from settings import DEV_JWT_SECRET, Settings
from tests.support.stack import Stack


def new_username(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_password() -> str:
    return f"pw-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
async def engine(stack: Stack) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(stack.database_url)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="module")
def stack_settings(stack: Stack) -> Settings:
    """What the stack's API signs with: our environment under the stack's."""
    env = {**os.environ, **stack.env}
    return Settings(
        database_url=stack.database_url,
        jwt_secret=SecretStr(env.get("JWT_SECRET", DEV_JWT_SECRET)),
        jwt_ttl_minutes=int(env.get("JWT_TTL_MINUTES", "480")),
    )


async def new_advisor(engine: AsyncEngine) -> tuple[int, str]:
    """A fresh branch and one advisor at desk 1; returns the advisor's id and email."""
    email = f"{uuid.uuid4().hex[:12]}@bank.test"
    async with engine.begin() as conn:
        branch_id = (
            await conn.execute(
                text(
                    "INSERT INTO branch (name, time_zone) VALUES (:name, 'America/Santiago')"
                    " RETURNING id"
                ),
                {"name": f"Auth {uuid.uuid4().hex[:10]}"},
            )
        ).scalar_one()
        advisor_id = (
            await conn.execute(
                text(
                    "INSERT INTO advisor (branch_id, name, email, desk, queues)"
                    " VALUES (:branch_id, 'Ana Test', :email, 1, :queues) RETURNING id"
                ),
                {"branch_id": branch_id, "email": email, "queues": ["CAJA"]},
            )
        ).scalar_one()
    return int(advisor_id), email


async def deactivate(engine: AsyncEngine, user_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE app_user SET active = false WHERE id = :id"), {"id": user_id}
        )
