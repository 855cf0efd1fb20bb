"""Access tokens: claims, expiry and signature (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import SecretStr

from api.auth.principal import Principal
from api.auth.tokens import TokenExpired, TokenInvalid, decode_token, issue_token
from settings import Settings

SECRET = "unit-test-secret-0123456789abcdef0123456789"
CFG = Settings(jwt_secret=SecretStr(SECRET), jwt_ttl_minutes=30)
ADVISOR = Principal(user_id=7, username="ana", role="advisor", advisor_id=3)
SUPERVISOR = Principal(user_id=8, username="sofia", role="supervisor", advisor_id=None)


def test_round_trip_gives_back_the_principal() -> None:
    assert decode_token(issue_token(ADVISOR, CFG), CFG) == ADVISOR
    assert decode_token(issue_token(SUPERVISOR, CFG), CFG) == SUPERVISOR


def test_claims_are_hs256_with_string_sub_and_ttl() -> None:
    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    token = issue_token(ADVISOR, CFG, now=now)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {
        "sub": "7",
        "username": "ana",
        "role": "advisor",
        "advisor_id": 3,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=30)).timestamp()),
    }


def test_expired_token_raises_token_expired() -> None:
    token = issue_token(SUPERVISOR, CFG, ttl_minutes=-1)
    with pytest.raises(TokenExpired):
        decode_token(token, CFG)


def test_other_secret_raises_token_invalid() -> None:
    other = Settings(jwt_secret=SecretStr("another-secret-0123456789abcdef0123456789"))
    with pytest.raises(TokenInvalid):
        decode_token(issue_token(SUPERVISOR, other), CFG)


def test_tampered_payload_raises_token_invalid() -> None:
    header, _payload, signature = issue_token(SUPERVISOR, CFG).split(".")
    forged = jwt.encode(
        {"sub": "8", "username": "sofia", "role": "operator", "iat": 0, "exp": 2**31},
        "guessed-secret-0123456789abcdef0123456789",
        algorithm="HS256",
    ).split(".")[1]
    with pytest.raises(TokenInvalid):
        decode_token(f"{header}.{forged}.{signature}", CFG)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_garbage_raises_token_invalid(token: str) -> None:
    with pytest.raises(TokenInvalid):
        decode_token(token, CFG)


def test_alg_none_is_refused() -> None:
    now = int(datetime.now(UTC).timestamp())
    token = jwt.encode(
        {"sub": "8", "username": "x", "role": "supervisor", "iat": now, "exp": now + 60},
        None,
        algorithm="none",
    )
    with pytest.raises(TokenInvalid):
        decode_token(token, CFG)


@pytest.mark.parametrize(
    "claims",
    [
        {"username": "x", "role": "supervisor"},  # no sub
        {"sub": "abc", "username": "x", "role": "supervisor"},
        {"sub": "1", "username": "x", "role": "customer"},
        {"sub": "1", "username": 5, "role": "supervisor"},
        {"sub": "1", "username": "x", "role": "advisor", "advisor_id": "3"},
    ],
)
def test_well_signed_but_wrong_claims_raise_token_invalid(claims: dict[str, object]) -> None:
    now = int(datetime.now(UTC).timestamp())
    token = jwt.encode({**claims, "iat": now, "exp": now + 60}, SECRET, algorithm="HS256")
    with pytest.raises(TokenInvalid):
        decode_token(token, CFG)
