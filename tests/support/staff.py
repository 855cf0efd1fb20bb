"""Advisors and users for tests, created straight in the test database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.users import create_user
from db.tickets import ensure_branch

PASSWORD = "test-password-123"


@dataclass(frozen=True)
class Staff:
    advisor_id: int | None
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def login(api: httpx.AsyncClient, username: str) -> str:
    resp = await api.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


async def add_advisor(
    engine: AsyncEngine,
    api: httpx.AsyncClient,
    branch: str,
    desk: int,
    queues: list[str],
    *,
    status: str = "OFFLINE",
) -> Staff:
    async with engine.begin() as conn:
        row = await ensure_branch(conn, branch, "America/Santiago")
        # open at all hours: the suite takes tickets whatever the time of day
        await conn.execute(
            text("UPDATE branch SET open_all_hours = true WHERE id = :b"), {"b": row.id}
        )
        advisor_id = (
            await conn.execute(
                text(
                    "INSERT INTO advisor (branch_id, name, email, desk, queues, status)"
                    " VALUES (:b, :n, :e, :d, :q, :s) RETURNING id"
                ),
                {
                    "b": row.id,
                    "n": f"Asesor {desk}",
                    "e": f"a{uuid.uuid4().hex[:12]}@test.example",
                    "d": desk,
                    "q": queues,
                    "s": status,
                },
            )
        ).scalar_one()
    username = f"adv-{uuid.uuid4().hex[:10]}"
    await create_user(engine, username, PASSWORD, "advisor", advisor_id=advisor_id)
    return Staff(advisor_id, username, await login(api, username))


async def add_user(engine: AsyncEngine, api: httpx.AsyncClient, role: str) -> Staff:
    username = f"{role}-{uuid.uuid4().hex[:10]}"
    await create_user(engine, username, PASSWORD, role)
    return Staff(None, username, await login(api, username))
