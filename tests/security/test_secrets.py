"""Outside APP_ENV=dev/test no process starts with a missing, short or development secret,
and the refusal names the variable, never its value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from settings import (
    DEV_JWT_SECRET,
    DEV_LINK_SECRET,
    DEV_NATIONAL_ID_KEY,
    DEV_REFERENCE_KEY,
    InsecureSettingsError,
    Settings,
)
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
STRONG = {
    "jwt_secret": "j" * 40,
    "national_id_key": "n" * 40,
    "telegram_link_secret": "l" * 40,
    "reference_key": "r" * 40,
}
DEV_VALUES = {
    "jwt_secret": DEV_JWT_SECRET,
    "national_id_key": DEV_NATIONAL_ID_KEY,
    "telegram_link_secret": DEV_LINK_SECRET,
    "reference_key": DEV_REFERENCE_KEY,
}
SECRET_VARIABLES = (
    "JWT_SECRET",
    "NATIONAL_ID_KEY",
    "TELEGRAM_LINK_SECRET",
    "REFERENCE_KEY",
    "TELEGRAM_WEBHOOK_SECRET",
)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("field", sorted(STRONG))
@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "development"),  # the dev default
        ("", "not set"),
        ("   ", "not set"),
        ("x" * 31, "shorter than 32"),
        ("change-me-to-a-long-random-string", "placeholder"),
    ],
)
def test_production_refuses_a_weak_secret_naming_it(
    field: str, value: str | None, why: str
) -> None:
    bad = DEV_VALUES[field] if value is None else value
    with pytest.raises(InsecureSettingsError) as raised:
        settings(app_env="production", **{**STRONG, field: bad})
    message = str(raised.value)
    assert field.upper() in message and why in message
    for other in set(STRONG) - {field}:
        assert other.upper() not in message  # only the offending variable
    if bad.strip():
        assert bad not in message


def test_every_weak_secret_is_named_at_once() -> None:
    with pytest.raises(InsecureSettingsError) as raised:
        settings(app_env="staging", **DEV_VALUES)
    for name in ("JWT_SECRET", "NATIONAL_ID_KEY", "TELEGRAM_LINK_SECRET", "REFERENCE_KEY"):
        assert name in str(raised.value)
    assert not any(value in str(raised.value) for value in DEV_VALUES.values())


def test_the_webhook_secret_is_required_only_with_webhook_updates() -> None:
    settings(app_env="production", telegram_updates="polling", **STRONG)
    with pytest.raises(InsecureSettingsError, match="TELEGRAM_WEBHOOK_SECRET is not set"):
        settings(app_env="production", telegram_updates="webhook", **STRONG)
    with pytest.raises(InsecureSettingsError, match="TELEGRAM_WEBHOOK_SECRET is shorter"):
        settings(
            app_env="production",
            telegram_updates="webhook",
            telegram_webhook_secret="short",
            **STRONG,
        )
    settings(
        app_env="production",
        telegram_updates="webhook",
        telegram_webhook_secret="w" * 32,
        **STRONG,
    )


@pytest.mark.parametrize("app_env", ["dev", "test", "DEV", " test "])
def test_dev_and_test_run_with_the_development_defaults(app_env: str) -> None:
    cfg = settings(app_env=app_env, telegram_updates="webhook")
    assert cfg.jwt_secret.get_secret_value() == DEV_JWT_SECRET


def test_production_with_real_secrets_starts() -> None:
    cfg = settings(app_env="production", **STRONG)
    assert cfg.app_env == "production"


def production_env() -> dict[str, str]:
    """Our environment with APP_ENV=production and none of the secrets set."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    return env | {"APP_ENV": "production", "PYTHONUNBUFFERED": "1"}


PROCESSES = {
    "api": ["-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", "{port}"],
    "worker": ["worker.py"],
    "bridge": ["-m", "bridge"],
    "cli": ["-m", "cli.main", "runs"],
}


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_a_production_process_with_default_secrets_exits_naming_them(process: str) -> None:
    argv = [arg.format(port=free_port()) for arg in PROCESSES[process]]
    try:
        result = subprocess.run(
            [sys.executable, *argv],
            cwd=REPO,
            env=production_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{process} kept running with APP_ENV=production and development secrets")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for name in ("JWT_SECRET", "NATIONAL_ID_KEY", "TELEGRAM_LINK_SECRET", "REFERENCE_KEY"):
        assert name in result.stderr, (process, output[-2000:])
    for value in DEV_VALUES.values():
        assert value not in output, process
