"""Login throttling: a username locks after repeated failures, an address after too many.

Defaults of the stack: LOGIN_MAX_FAILURES=5, LOGIN_LOCKOUT_SECONDS=900,
LOGIN_RATE_PER_MINUTE_PER_ADDRESS=20. A lockout is ended early by moving its
`locked_until` into the past, as its expiry would.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.throttle import mask_address, mask_username, username_key
from api.auth.users import create_user
from settings import Settings
from tests.auth.conftest import new_password, new_username
from tests.security.conftest import Caller

pytestmark = pytest.mark.e2e

MAX_FAILURES = 5
LOCKOUT_SECONDS = 900
PER_ADDRESS = 20
BAD_LOGIN = "Usuario o contraseña incorrectos"  # es, the default language


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", data={"username": username, "password": password})


async def metric(api: httpx.AsyncClient, name: str, **labels: str) -> float:
    body = (await api.get("/actuator/prometheus")).text
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def end_lockout(db: AsyncEngine, settings: Settings, username: str) -> None:
    async with db.begin() as conn:
        ended = await conn.execute(
            text(
                "UPDATE login_throttle SET locked_until = now() - interval '1 second'"
                " WHERE key = :k AND locked_until > now()"
            ),
            {"k": username_key(username, settings)},
        )
    assert ended.rowcount == 1, "the username was not locked"


async def audit_events(db: AsyncEngine, user_id: int) -> list[tuple[str, str, str]]:
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT event, username_masked, client_address FROM auth_event"
                    " WHERE user_id = :u ORDER BY id"
                ),
                {"u": user_id},
            )
        ).all()
    return [(r.event, r.username_masked, r.client_address) for r in rows]


def assert_throttled(resp: httpx.Response, at_most: int) -> None:
    assert resp.status_code == 429, resp.text
    retry_after = int(resp.headers["retry-after"])
    assert 1 <= retry_after <= at_most
    body = resp.json()
    assert body["status"] == 429
    assert body["error"] == "Too Many Requests"
    assert body["path"] == "/api/auth/token"
    assert "access_token" not in body


async def test_30_wrong_passwords_lock_the_user_and_then_even_the_right_one_is_429(
    api: httpx.AsyncClient,
    caller: Caller,
    db: AsyncEngine,
    stack_settings: Settings,
) -> None:
    username, password = new_username("locked"), new_password()
    user = await create_user(db, username, password, "supervisor")
    throttled_before = await metric(api, "login_throttled_total", reason="locked")
    lockouts_before = await metric(api, "login_lockouts_total")

    async with caller() as client:
        answers = [await login(client, username, f"guess-{i}") for i in range(30)]
        assert [r.status_code for r in answers[:MAX_FAILURES]] == [401] * MAX_FAILURES
        assert all(r.json()["message"] == BAD_LOGIN for r in answers[:MAX_FAILURES])
        for resp in answers[MAX_FAILURES:]:
            assert_throttled(resp, LOCKOUT_SECONDS)
        assert_throttled(await login(client, username, password), LOCKOUT_SECONDS)

    assert await metric(api, "login_throttled_total", reason="locked") >= throttled_before + 26
    assert await metric(api, "login_lockouts_total") >= lockouts_before + 1
    events = await audit_events(db, user.user_id)
    assert [e for e, _, _ in events] == ["LOGIN_FAILED"] * MAX_FAILURES + ["USER_LOCKED"]
    for _event, masked, address in events:
        assert username not in masked and masked.endswith("***")
        assert address.endswith(".0/24")

    # Once the lockout runs out the right password works, and the count starts again.
    await end_lockout(db, stack_settings, username)
    async with caller() as client:
        resp = await login(client, username, password)
    assert resp.status_code == 200, resp.text
    async with db.connect() as conn:
        left = (
            await conn.execute(
                text("SELECT count(*) FROM login_throttle WHERE key = :k"),
                {"k": username_key(username, stack_settings)},
            )
        ).scalar_one()
    assert left == 0


async def test_a_success_resets_the_failure_count(caller: Caller, db: AsyncEngine) -> None:
    username, password = new_username("reset"), new_password()
    await create_user(db, username, password, "operator")

    async with caller() as client:
        for _ in range(2):
            for i in range(MAX_FAILURES - 1):
                assert (await login(client, username, f"typo-{i}")).status_code == 401
            assert (await login(client, username, password)).status_code == 200


async def test_an_unknown_username_locks_the_same_way(caller: Caller) -> None:
    """A lockout must not tell which usernames exist."""
    ghost = new_username("ghost")
    async with caller() as client:
        answers = [await login(client, ghost, new_password()) for _ in range(MAX_FAILURES + 2)]
    assert [r.status_code for r in answers] == [401] * MAX_FAILURES + [429, 429]
    assert_throttled(answers[-1], LOCKOUT_SECONDS)


async def test_one_address_failing_for_many_usernames_is_throttled(
    api: httpx.AsyncClient, caller: Caller, db: AsyncEngine
) -> None:
    before = await metric(api, "login_throttled_total", reason="address")
    async with caller() as client:
        answers = [await login(client, new_username("spray"), new_password()) for _ in range(30)]
        assert [r.status_code for r in answers[:PER_ADDRESS]] == [401] * PER_ADDRESS
        for resp in answers[PER_ADDRESS:]:
            assert_throttled(resp, 60)
        # Another address is not affected.
        username, password = new_username("other"), new_password()
        await create_user(db, username, password, "operator")
    async with caller() as other:
        assert (await login(other, username, password)).status_code == 200

    assert await metric(api, "login_throttled_total", reason="address") >= before + 10
    async with db.connect() as conn:
        throttled = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM auth_event WHERE event = 'ADDRESS_THROTTLED'"
                    " AND at > now() - interval '5 minutes'"
                )
            )
        ).scalar_one()
    assert throttled >= 1


def test_the_settings_and_their_defaults_are_documented() -> None:
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert defaults["login_max_failures"] == MAX_FAILURES
    assert defaults["login_lockout_seconds"] == LOCKOUT_SECONDS
    assert defaults["login_rate_per_minute_per_address"] == PER_ADDRESS
    root = Path(__file__).resolve().parents[2]
    readme, example = (root / "README.md").read_text(), (root / ".env.example").read_text()
    for name in (
        "LOGIN_MAX_FAILURES",
        "LOGIN_LOCKOUT_SECONDS",
        "LOGIN_RATE_PER_MINUTE_PER_ADDRESS",
    ):
        assert f"`{name}`" in readme and f"{name}=" in example, name


def test_the_audit_trail_masks_what_was_typed_and_where_from() -> None:
    assert mask_username("maria.gonzalez") == "ma***"
    assert mask_username("ana") == "***"
    assert mask_address("203.0.113.57") == "203.0.113.0/24"
    assert mask_address("2001:db8:abcd:12::7") == "2001:db8:abcd::/48"
    assert mask_address("testclient") == "unknown"


def test_the_lockout_key_is_a_keyed_hash_of_the_lower_cased_username() -> None:
    cfg = Settings()
    key = username_key(" Maria ", cfg)
    assert key == username_key("maria", cfg) and "maria" not in key and len(key) == 64
