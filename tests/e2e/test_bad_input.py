"""Values PostgreSQL cannot store (NUL bytes, out-of-range numbers) are the client's
mistake: 422, never a 500 — whichever endpoint they reach."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.data import branch_name
from tests.support.staff import add_user

pytestmark = pytest.mark.e2e


async def test_nul_in_a_path_and_huge_numbers_are_422(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    supervisor = await add_user(db, api, "supervisor")
    resp = await api.get("/api/branches/Fz%00/dashboard", headers=supervisor.headers)
    assert resp.status_code == 422, resp.text
    for body in (
        {"name": "Ana\x00", "email": "ana@b.example", "desk": 3, "queues": ["CAJA"]},
        {"name": "Ana", "email": "ana2@b.example", "desk": 2**40, "queues": ["CAJA"]},
    ):
        resp = await api.post(
            "/api/advisors",
            json={**body, "branchOffice": branch_name()},
            headers=supervisor.headers,
        )
        assert resp.status_code == 422, resp.text
    # The API still answers on the same connection (a 500 used to drop it).
    assert (await api.get("/actuator/health/liveness")).status_code == 200


async def test_restore_takes_a_backup_name_not_a_path(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    operator = await add_user(db, api, "operator")
    resp = await api.post(
        "/api/operations/restores", json={"backup": "../../etc/passwd"}, headers=operator.headers
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "backup"
