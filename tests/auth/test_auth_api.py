"""Login and `/api/auth/me` over HTTP against the running stack."""

from __future__ import annotations

import httpx
import jwt
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.principal import Principal
from api.auth.tokens import issue_token
from api.auth.users import create_user
from settings import Settings
from tests.auth.conftest import deactivate, new_advisor, new_password, new_username

pytestmark = pytest.mark.e2e

BAD_LOGIN = "Usuario o contraseña incorrectos"  # es, the default language
INVALID_TOKEN = "Token de acceso inválido o vencido; inicie sesión de nuevo"


async def login(api: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await api.post("/api/auth/token", data={"username": username, "password": password})


async def test_supervisor_logs_in_and_reads_me(
    api: httpx.AsyncClient, engine: AsyncEngine, stack_settings: Settings
) -> None:
    username, password = new_username("sup"), new_password()
    user = await create_user(engine, username, password, "supervisor")

    resp = await login(api, username, password)

    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "role"}
    assert body["token_type"] == "bearer"
    assert body["role"] == "supervisor"
    assert body["expires_in"] == stack_settings.jwt_ttl_minutes * 60
    claims = jwt.decode(
        body["access_token"],
        stack_settings.jwt_secret.get_secret_value(),
        algorithms=["HS256"],
    )
    assert claims["sub"] == str(user.user_id)
    assert claims["exp"] - claims["iat"] == body["expires_in"]

    me = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json() == {
        "userId": user.user_id,
        "username": username,
        "role": "supervisor",
        "advisorId": None,
    }


async def test_advisor_me_carries_the_advisor_id(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    advisor_id, _email = await new_advisor(engine)
    username, password = new_username("adv"), new_password()
    await create_user(engine, username, password, "advisor", advisor_id)

    token = (await login(api, username, password)).json()["access_token"]
    me = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert me.status_code == 200, me.text
    assert me.json()["role"] == "advisor"
    assert me.json()["advisorId"] == advisor_id


async def test_username_is_case_insensitive(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    username, password = new_username("Op"), new_password()
    await create_user(engine, username, password, "operator")

    resp = await login(api, username.upper(), password)

    assert resp.status_code == 200, resp.text
    assert resp.json()["role"] == "operator"


async def test_wrong_password_is_401(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    username, password = new_username(), new_password()
    await create_user(engine, username, password, "supervisor")

    resp = await login(api, username, password + "x")

    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    body = resp.json()
    assert body["status"] == 401
    assert body["message"] == BAD_LOGIN
    assert body["path"] == "/api/auth/token"
    assert "access_token" not in body


async def test_unknown_user_is_401_with_the_same_message(api: httpx.AsyncClient) -> None:
    resp = await login(api, new_username("ghost"), new_password())

    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert resp.json()["message"] == BAD_LOGIN


async def test_inactive_user_cannot_log_in(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    username, password = new_username("gone"), new_password()
    user = await create_user(engine, username, password, "supervisor")
    assert (await login(api, username, password)).status_code == 200

    await deactivate(engine, user.user_id)

    resp = await login(api, username, password)
    assert resp.status_code == 401
    assert resp.json()["message"] == BAD_LOGIN


async def test_missing_form_fields_are_422(api: httpx.AsyncClient) -> None:
    resp = await api.post("/api/auth/token", data={"username": "x"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "password"


async def test_me_without_token_is_401_with_challenge(api: httpx.AsyncClient) -> None:
    resp = await api.get("/api/auth/me")

    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    body = resp.json()
    assert body["status"] == 401
    assert body["message"] == "No autenticado"
    assert body["path"] == "/api/auth/me"


async def test_me_with_tampered_token_is_401(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    username, password = new_username(), new_password()
    await create_user(engine, username, password, "operator")
    token = (await login(api, username, password)).json()["access_token"]
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")

    for bad in (f"{header}.{payload}.{flipped}", f"{header}.{payload}.", "garbage"):
        resp = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert resp.status_code == 401, bad
        assert resp.headers["www-authenticate"] == "Bearer"
        assert resp.json()["message"] == INVALID_TOKEN


async def test_me_with_token_of_another_secret_is_401(api: httpx.AsyncClient) -> None:
    forger = Settings(jwt_secret=SecretStr("attacker-secret-0123456789abcdef0123456789"))
    token = issue_token(Principal(1, "sofia", "supervisor", None), forger)

    resp = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert resp.status_code == 401
    assert resp.json()["message"] == INVALID_TOKEN


async def test_me_with_expired_token_is_401(
    api: httpx.AsyncClient, engine: AsyncEngine, stack_settings: Settings
) -> None:
    username, password = new_username(), new_password()
    user = await create_user(engine, username, password, "supervisor")
    fresh = issue_token(user, stack_settings)
    expired = issue_token(user, stack_settings, ttl_minutes=-1)

    ok = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh}"})
    resp = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {expired}"})

    assert ok.status_code == 200, "the stack must sign with the secret the test uses"
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert resp.json()["message"] == INVALID_TOKEN


async def test_openapi_declares_the_password_flow(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/openapi.json")).json()
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/auth/token"
