"""HS256 access tokens (PyJWT) signed with `settings.jwt_secret`.

Claims: `sub` (the user id as a string), `username`, `role`, `advisor_id`
(or null), `iat` and `exp` (`settings.jwt_ttl_minutes` after `iat`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from api.auth.principal import ROLES, Principal
from settings import Settings, get_settings

ALGORITHM = "HS256"


class TokenError(Exception):
    """The token cannot be trusted; the message is safe to show."""


class TokenExpired(TokenError):
    """Well signed but past its `exp`."""


class TokenInvalid(TokenError):
    """Malformed, badly signed or missing a claim."""


def issue_token(
    principal: Principal,
    settings: Settings | None = None,
    *,
    ttl_minutes: int | None = None,
    now: datetime | None = None,
) -> str:
    """Sign an access token for `principal`; `ttl_minutes` defaults to the settings'."""
    cfg = settings or get_settings()
    issued = now or datetime.now(UTC)
    ttl = cfg.jwt_ttl_minutes if ttl_minutes is None else ttl_minutes
    claims: dict[str, Any] = {
        "sub": str(principal.user_id),
        "username": principal.username,
        "role": principal.role,
        "advisor_id": principal.advisor_id,
        "iat": issued,
        "exp": issued + timedelta(minutes=ttl),
    }
    return jwt.encode(claims, cfg.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def decode_token(token: str, settings: Settings | None = None) -> Principal:
    """Verify signature and expiry and return the token's principal.

    Raises `TokenExpired` or `TokenInvalid` (both `TokenError`).
    """
    cfg = settings or get_settings()
    try:
        claims = jwt.decode(
            token,
            cfg.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("Access token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenInvalid("Invalid access token") from exc
    return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    sub, username, role = claims.get("sub"), claims.get("username"), claims.get("role")
    advisor_id = claims.get("advisor_id")
    if (
        not isinstance(sub, str)
        or not sub.isdecimal()
        or not isinstance(username, str)
        or role not in ROLES
        or not (advisor_id is None or (isinstance(advisor_id, int) and advisor_id > 0))
        or isinstance(advisor_id, bool)
    ):
        raise TokenInvalid("Invalid access token")
    return Principal(user_id=int(sub), username=username, role=str(role), advisor_id=advisor_id)
