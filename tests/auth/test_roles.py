"""`current_principal` and `require_roles` on a tiny app (no database, no stack).

The users the tokens name are looked up in an in-memory directory instead of `app_user`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import SecretStr

from api.auth.access import staff_directory
from api.auth.deps import (
    AdvisorDep,
    OperatorDep,
    Principal,
    StaffDep,
    SupervisorDep,
    auth_settings,
    require_roles,
)
from api.auth.tokens import issue_token
from api.errors import install_error_handlers
from settings import Settings

CFG = Settings(jwt_secret=SecretStr("roles-test-secret-0123456789abcdef0123456789"))
USERS = {
    "advisor": Principal(user_id=1, username="ana", role="advisor", advisor_id=10),
    "supervisor": Principal(user_id=2, username="sofia", role="supervisor", advisor_id=None),
    "operator": Principal(user_id=3, username="oscar", role="operator", advisor_id=None),
}


class MemoryDirectory:
    """Every user of `USERS` is active as its token says; others do not exist."""

    async def find(self, user_id: int) -> Principal | None:
        return next((p for p in USERS.values() if p.user_id == user_id), None)


def tiny_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.dependency_overrides[auth_settings] = lambda: CFG
    app.dependency_overrides[staff_directory] = MemoryDirectory

    @app.get("/supervised", dependencies=[Depends(require_roles("supervisor"))])
    async def supervised() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/supervisor")
    async def supervisor(who: SupervisorDep) -> dict[str, object]:
        return {"user": who.user_id}

    @app.get("/advisor")
    async def advisor(who: AdvisorDep) -> dict[str, object]:
        return {"user": who.user_id, "advisor": who.advisor_id}

    @app.get("/operator")
    async def operator(who: OperatorDep) -> dict[str, object]:
        return {"user": who.user_id}

    @app.get("/staff")
    async def staff(who: StaffDep) -> dict[str, object]:
        return {"user": who.user_id, "role": who.role}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=tiny_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def bearer(role: str, ttl_minutes: int | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(USERS[role], CFG, ttl_minutes=ttl_minutes)}"}


async def test_supervisor_passes_require_roles(client: httpx.AsyncClient) -> None:
    resp = await client.get("/supervised", headers=bearer("supervisor"))
    assert resp.status_code == 200, resp.text
    assert (await client.get("/supervisor", headers=bearer("supervisor"))).json() == {"user": 2}


@pytest.mark.parametrize("role", ["advisor", "operator"])
async def test_other_roles_get_403_json(client: httpx.AsyncClient, role: str) -> None:
    resp = await client.get("/supervised", headers=bearer(role))
    assert resp.status_code == 403
    body = resp.json()
    assert body["status"] == 403
    assert body["error"] == "Forbidden"
    assert body["message"] == "Requiere el rol supervisor"
    assert body["path"] == "/supervised"


async def test_each_alias_admits_only_its_role(client: httpx.AsyncClient) -> None:
    for path, role in (("/advisor", "advisor"), ("/operator", "operator")):
        for caller in USERS:
            resp = await client.get(path, headers=bearer(caller))
            assert resp.status_code == (200 if caller == role else 403), (path, caller)
    assert (await client.get("/advisor", headers=bearer("advisor"))).json() == {
        "user": 1,
        "advisor": 10,
    }


async def test_staff_admits_every_role(client: httpx.AsyncClient) -> None:
    for role in USERS:
        resp = await client.get("/staff", headers=bearer(role))
        assert resp.status_code == 200
        assert resp.json()["role"] == role


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwdw=="},
        {"Authorization": "Bearer not-a-jwt"},
    ],
)
async def test_missing_or_bad_token_is_401_with_challenge(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    resp = await client.get("/supervised", headers=headers)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert resp.json()["status"] == 401


async def test_expired_token_is_401_not_403(client: httpx.AsyncClient) -> None:
    resp = await client.get("/supervised", headers=bearer("advisor", ttl_minutes=-1))
    assert resp.status_code == 401
    assert resp.json()["message"] == ("Token de acceso inválido o vencido; inicie sesión de nuevo")


def test_unknown_role_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        require_roles("admin")
    with pytest.raises(ValueError):
        require_roles()


async def test_token_of_a_user_no_longer_in_the_directory_is_401(
    client: httpx.AsyncClient,
) -> None:
    gone = Principal(user_id=99, username="ghost", role="operator", advisor_id=None)
    token = issue_token(gone, CFG)
    resp = await client.get("/staff", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert "ya no es válido" in resp.json()["message"]


async def test_token_whose_role_changed_since_login_is_401(client: httpx.AsyncClient) -> None:
    promoted = Principal(user_id=1, username="ana", role="operator", advisor_id=None)
    token = issue_token(promoted, CFG)
    resp = await client.get("/staff", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
