"""User storage, bootstrap and the CLI against the test stack's database."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.users import authenticate, create_user, ensure_bootstrap_supervisor
from db.users import AdvisorHasUser, UnknownAdvisor, UserExists
from domain.passwords import verify_password
from settings import Settings
from tests.auth.conftest import deactivate, new_advisor, new_password, new_username
from tests.support.stack import REPO, Stack


async def stored_hash(engine: AsyncEngine, user_id: int) -> str:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT password_hash FROM app_user WHERE id = :id"), {"id": user_id}
            )
        ).one()
    return str(row.password_hash)


async def test_create_then_authenticate(engine: AsyncEngine) -> None:
    username, password = new_username(), new_password()
    user = await create_user(engine, username, password, "operator")

    assert user.username == username and user.role == "operator" and user.advisor_id is None
    stored = await stored_hash(engine, user.user_id)
    assert stored.startswith("$argon2id$") and password not in stored
    assert verify_password(password, stored)
    assert await authenticate(engine, username, password) == user
    assert await authenticate(engine, f"  {username.upper()} ", password) == user
    assert await authenticate(engine, username, "wrong") is None
    assert await authenticate(engine, new_username(), password) is None


async def test_inactive_user_does_not_authenticate(engine: AsyncEngine) -> None:
    username, password = new_username(), new_password()
    user = await create_user(engine, username, password, "supervisor")
    await deactivate(engine, user.user_id)
    assert await authenticate(engine, username, password) is None


async def test_username_is_unique_in_any_case(engine: AsyncEngine) -> None:
    username = new_username("Dup")
    await create_user(engine, username, new_password(), "supervisor")
    with pytest.raises(UserExists):
        await create_user(engine, username.lower(), new_password(), "operator")
    with pytest.raises(UserExists):
        await create_user(engine, username.upper(), new_password(), "supervisor")


async def test_advisor_links(engine: AsyncEngine) -> None:
    advisor_id, _ = await new_advisor(engine)
    user = await create_user(engine, new_username(), new_password(), "advisor", advisor_id)
    assert user.advisor_id == advisor_id
    with pytest.raises(AdvisorHasUser):
        await create_user(engine, new_username(), new_password(), "advisor", advisor_id)
    with pytest.raises(UnknownAdvisor):
        await create_user(engine, new_username(), new_password(), "advisor", 2_000_000_000)


@pytest.mark.parametrize(
    ("username", "password", "role", "advisor_id"),
    [
        ("", "pw", "supervisor", None),
        ("x" * 101, "pw", "supervisor", None),
        ("someone", "", "supervisor", None),
        ("someone", "pw", "admin", None),
        ("someone", "pw", "advisor", None),
        ("someone", "pw", "supervisor", 1),
    ],
)
async def test_invalid_input_is_refused(
    engine: AsyncEngine, username: str, password: str, role: str, advisor_id: int | None
) -> None:
    with pytest.raises(ValueError):
        await create_user(engine, username, password, role, advisor_id)


async def test_bootstrap_creates_the_supervisor_once(
    engine: AsyncEngine, stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    username, password = new_username("boot"), new_password()
    cfg = Settings(
        database_url=stack.database_url,
        bootstrap_supervisor_username=username,
        bootstrap_supervisor_password=SecretStr(password),
    )
    caplog.set_level(logging.DEBUG)

    assert await ensure_bootstrap_supervisor(engine, cfg) is True
    assert await ensure_bootstrap_supervisor(engine, cfg) is False
    other = cfg.model_copy(update={"bootstrap_supervisor_password": SecretStr("changed")})
    assert await ensure_bootstrap_supervisor(engine, other) is False

    user = await authenticate(engine, username, password)
    assert user is not None and user.role == "supervisor"
    assert await authenticate(engine, username, "changed") is None, "never reset"
    assert password not in caplog.text
    assert username in caplog.text


@pytest.mark.parametrize(("username", "password"), [("", ""), ("someone", ""), ("", "a-password")])
async def test_bootstrap_needs_both_settings(
    engine: AsyncEngine, username: str, password: str
) -> None:
    cfg = Settings(
        bootstrap_supervisor_username=username,
        bootstrap_supervisor_password=SecretStr(password),
    )
    assert await ensure_bootstrap_supervisor(engine, cfg) is False


async def run_cli(stack: Stack, *args: str, password: str | None) -> tuple[int, str, str]:
    env = {**os.environ, **stack.env}
    env.pop("TICKETERO_NEW_PASSWORD", None)
    if password is not None:
        env["TICKETERO_NEW_PASSWORD"] = password
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.auth",
        *args,
        cwd=str(REPO),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_creates_users(engine: AsyncEngine, stack: Stack) -> None:
    username, password = new_username("cli"), new_password()
    code, out, err = await run_cli(
        stack, "create-user", "--username", username, "--role", "supervisor", password=password
    )
    assert code == 0, err
    assert username in out and password not in out + err
    assert (await authenticate(engine, username, password)) is not None

    code, _, err = await run_cli(
        stack, "create-user", "--username", username, "--role", "operator", password=password
    )
    assert code == 1
    assert "already exists" in err


async def test_cli_links_advisor_by_email(engine: AsyncEngine, stack: Stack) -> None:
    advisor_id, email = await new_advisor(engine)
    username, password = new_username("cliadv"), new_password()
    code, _, err = await run_cli(
        stack,
        "create-user",
        "--username",
        username,
        "--role",
        "advisor",
        "--advisor-email",
        email.upper(),
        password=password,
    )
    assert code == 0, err
    user = await authenticate(engine, username, password)
    assert user is not None and user.advisor_id == advisor_id


async def test_cli_refuses_unknown_advisor_email(stack: Stack) -> None:
    code, _, err = await run_cli(
        stack,
        "create-user",
        "--username",
        new_username(),
        "--role",
        "advisor",
        "--advisor-email",
        "nobody@nowhere.test",
        password=new_password(),
    )
    assert code == 1
    assert "no advisor with email 'nobody@nowhere.test'" in err


async def test_cli_without_password_and_no_terminal_fails(stack: Stack) -> None:
    code, _, err = await run_cli(
        stack, "create-user", "--username", new_username(), "--role", "operator", password=None
    )
    assert code == 1
    assert "TICKETERO_NEW_PASSWORD" in err


async def test_cli_rejects_password_argument(stack: Stack) -> None:
    code, _, err = await run_cli(
        stack,
        "create-user",
        "--username",
        new_username(),
        "--role",
        "operator",
        "--password",
        "oops",
        password=new_password(),
    )
    assert code == 2
    assert "unrecognized arguments" in err


async def test_api_lifespan_bootstraps_the_supervisor(
    engine: AsyncEngine, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.main

    monkeypatch.setattr(api.main, "setup_logging", lambda *args, **kwargs: None)
    username, password = new_username("life"), new_password()
    cfg = Settings(
        database_url=stack.database_url,
        bootstrap_supervisor_username=username,
        bootstrap_supervisor_password=SecretStr(password),
    )
    app = api.main.create_app(cfg)

    async with app.router.lifespan_context(app):
        user = await authenticate(engine, username, password)

    assert user is not None and user.role == "supervisor"
