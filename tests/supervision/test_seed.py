"""`python -m devstack.seed`: creates the demo branch and staff once, then nothing."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.supervision.helpers import at, auth, login
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "demo-password-for-tests"


async def run_seed(stack: Stack, app_env: str = "dev") -> tuple[int, str]:
    env = {
        **os.environ,
        "DATABASE_URL": stack.database_url,
        "APP_ENV": app_env,
        "DEMO_PASSWORD": DEMO_PASSWORD,
    }
    if app_env != "dev":  # outside dev/test no process gets anywhere without real secrets
        env |= {
            k: "s" * 40
            for k in ("JWT_SECRET", "NATIONAL_ID_KEY", "TELEGRAM_LINK_SECRET", "REFERENCE_KEY")
        }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devstack.seed",
        cwd=str(REPO),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def counts(db: AsyncEngine) -> tuple[int, int, int]:
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM branch) AS branches,"
                    " (SELECT count(*) FROM advisor) AS advisors,"
                    " (SELECT count(*) FROM app_user) AS users"
                )
            )
        ).one()
    return int(row.branches), int(row.advisors), int(row.users)


async def test_seed_is_idempotent(stack: Stack, api: httpx.AsyncClient, db: AsyncEngine) -> None:
    code, first = await run_seed(stack)
    assert code == 0, first
    after_first = await counts(db)

    code, second = await run_seed(stack)

    assert code == 0, second
    assert "nothing to create" in second
    assert await counts(db) == after_first
    assert DEMO_PASSWORD not in first + second

    supervisor = auth(await login(api, "supervisor", DEMO_PASSWORD))
    branch = (await api.get(at("sucursal centro"), headers=supervisor)).json()
    assert (branch["name"], branch["timeZone"], branch["opensAt"], branch["closesAt"]) == (
        "Sucursal Centro",
        "America/Santiago",
        "09:00",
        "14:00",
    )
    centre = {"branchOffice": "Sucursal Centro"}
    advisors = (await api.get("/api/advisors", params=centre, headers=supervisor)).json()
    assert [a["desk"] for a in advisors] == [1, 2, 3, 4, 5]
    served = {q for a in advisors for q in a["queues"]}
    assert served == {"CAJA", "PERSONAL_BANKER", "EMPRESAS", "GERENCIA"}
    assert all(a["username"] == a["email"].split("@")[0] for a in advisors)
    assert all(a["email"].endswith("@ticketero.example") for a in advisors)
    me = await api.get("/api/auth/me", headers=auth(await login(api, "operador", DEMO_PASSWORD)))
    assert me.json()["role"] == "operator"
    teller = await login(api, advisors[0]["username"], DEMO_PASSWORD)
    assert (await api.get("/api/auth/me", headers=auth(teller))).json()["role"] == "advisor"


async def test_seed_refuses_outside_dev(stack: Stack) -> None:
    code, out = await run_seed(stack, app_env="production")
    assert code == 2
    assert "refusing" in out
