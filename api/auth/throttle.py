"""Login throttling: a lockout per username and a failure rate per client address.

Two guards stand before the password check of `POST /api/auth/token`:

- **Per username** (`login_throttle`, PostgreSQL, so every API replica shares it):
  `LOGIN_MAX_FAILURES` wrong passwords in a row lock the username for
  `LOGIN_LOCKOUT_SECONDS`; while locked even the right password is refused. The
  count restarts after a successful login, after a lockout has run out, and when
  the last failure is older than the lockout. Usernames that do not exist are
  counted and locked the same way, so a lockout does not reveal which exist; the
  row's key is an HMAC of the lower-cased name, never the name itself.
- **Per client address** (the `limits` package, a moving window kept in this
  process's memory, so each replica counts on its own): more than
  `LOGIN_RATE_PER_MINUTE_PER_ADDRESS` failed logins from one address in a minute
  refuse further attempts from it until the window frees up.

A refusal is a 429 in the standard error body with `Retry-After`. Failures,
lockouts and exhausted address budgets are written to `auth_event` (username and
address masked) and counted in Prometheus (`login_failures_total`,
`login_lockouts_total`, `login_throttled_total{reason}`; per replica, sum them).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Final

from fastapi import Request
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.errors import ApiError
from settings import Settings

log = logging.getLogger("ticketero.auth")

THROTTLE_REASONS: Final = ("locked", "address")

login_failures = Counter("login_failures", "Staff logins refused for wrong credentials")
login_lockouts = Counter(
    "login_lockouts", "Usernames locked out after LOGIN_MAX_FAILURES failed logins"
)
login_throttled = Counter(
    "login_throttled",
    "Staff logins refused with 429: the username is locked out, or its address failed too often",
    ["reason"],
)
for _reason in THROTTLE_REASONS:
    login_throttled.labels(reason=_reason)

_LOCK_WAIT = text(
    "SELECT ceil(extract(epoch FROM locked_until - now())) AS wait FROM login_throttle"
    " WHERE key = :key AND locked_until > now()"
)
# One statement, safe under concurrent failures on several replicas: a failure after an
# expired lockout, or long after the previous one, starts the count again at 1.
_FAILURE = text(
    "INSERT INTO login_throttle AS t (key, failures, last_failure_at, locked_until)"
    " VALUES (:key, 1, now(), CASE WHEN :max <= 1 THEN now() + make_interval(secs => :lock) END)"
    " ON CONFLICT (key) DO UPDATE SET"
    "  failures = CASE WHEN t.locked_until <= now()"
    "    OR t.last_failure_at < now() - make_interval(secs => :lock)"
    "    THEN 1 ELSE t.failures + 1 END,"
    "  last_failure_at = now(),"
    "  locked_until = CASE WHEN t.locked_until > now() THEN t.locked_until"
    "    WHEN (CASE WHEN t.locked_until <= now()"
    "      OR t.last_failure_at < now() - make_interval(secs => :lock)"
    "      THEN 1 ELSE t.failures + 1 END) >= :max"
    "    THEN now() + make_interval(secs => :lock) END"
    " RETURNING failures, locked_until"
)
_PRUNE = text(
    "DELETE FROM login_throttle WHERE last_failure_at < now() - make_interval(secs => :lock)"
    " AND (locked_until IS NULL OR locked_until < now())"
)
_RESET = text("DELETE FROM login_throttle WHERE key = :key")
_AUDIT = text(
    "INSERT INTO auth_event (event, user_id, username_masked, client_address, details)"
    " VALUES (:event, (SELECT id FROM app_user WHERE lower(username) = lower(:username)),"
    " :masked, :address, CAST(:details AS jsonb))"
)


def username_key(username: str, settings: Settings) -> str:
    """The `login_throttle` key of a username: an HMAC, so the table holds no names."""
    secret = settings.jwt_secret.get_secret_value().encode()
    message = b"login-throttle:" + username.strip().lower().encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def mask_username(username: str) -> str:
    """The first two characters, for the audit trail (what was typed may be personal)."""
    name = username.strip()
    return f"{name[:2]}***" if len(name) > 3 else "***"


def mask_address(address: str) -> str:
    """The client's network, not the host: an IPv4 /24 or an IPv6 /48."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def client_address(request: Request) -> str:
    """Who is calling, as the ASGI server reports it (after its proxy-header handling)."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class Refusal:
    reason: str  # one of THROTTLE_REASONS
    retry_after: int  # seconds

    def error(self) -> ApiError:
        return ApiError(
            429,
            "auth.login_throttled",
            params={"seconds": self.retry_after},
            headers={"Retry-After": str(self.retry_after)},
        )


class LoginGuard:
    """The two guards of one API process; `check` before the password, then `failed`/`succeeded`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rate = RateLimitItemPerMinute(settings.login_rate_per_minute_per_address)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def check(self, engine: AsyncEngine, username: str, address: str) -> Refusal | None:
        """Why this attempt must be refused without looking at the password, if it must."""
        refusal = await self._address_refusal(address)
        if refusal is None:
            async with engine.connect() as conn:
                wait = (
                    await conn.execute(_LOCK_WAIT, {"key": username_key(username, self.settings)})
                ).scalar()
            if wait is not None:
                refusal = Refusal("locked", max(1, int(wait)))
        if refusal is not None:
            login_throttled.labels(reason=refusal.reason).inc()
        return refusal

    async def failed(self, engine: AsyncEngine, username: str, address: str) -> None:
        """Count a wrong password against the username and the address, and audit it."""
        login_failures.inc()
        await self.limiter.hit(self.rate, "login", address)
        address_exhausted = (await self.limiter.get_window_stats(self.rate, "login", address))[
            1
        ] == 0
        cfg = self.settings
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    _FAILURE,
                    {
                        "key": username_key(username, cfg),
                        "max": cfg.login_max_failures,
                        "lock": float(cfg.login_lockout_seconds),
                    },
                )
            ).one()
            failures = int(row.failures)
            events: list[tuple[str, dict[str, Any]]] = [("LOGIN_FAILED", {"failures": failures})]
            if failures == cfg.login_max_failures and row.locked_until is not None:
                login_lockouts.inc()
                events.append(
                    (
                        "USER_LOCKED",
                        {
                            "failures": failures,
                            "lockedUntil": row.locked_until.isoformat(),
                        },
                    )
                )
                log.warning(
                    "login locked for %ss after %s failures: username %s from %s",
                    cfg.login_lockout_seconds,
                    failures,
                    mask_username(username),
                    mask_address(address),
                )
            if address_exhausted:
                events.append(
                    (
                        "ADDRESS_THROTTLED",
                        {"perMinute": cfg.login_rate_per_minute_per_address},
                    )
                )
                log.warning(
                    "login failures from %s reached %s per minute",
                    mask_address(address),
                    cfg.login_rate_per_minute_per_address,
                )
            for event, details in events:
                await audit(conn, event, username, address, details)
            await conn.execute(_PRUNE, {"lock": float(cfg.login_lockout_seconds)})

    async def succeeded(self, engine: AsyncEngine, username: str) -> None:
        """A successful login forgets the username's failures."""
        async with engine.begin() as conn:
            await conn.execute(_RESET, {"key": username_key(username, self.settings)})

    async def _address_refusal(self, address: str) -> Refusal | None:
        if await self.limiter.test(self.rate, "login", address):
            return None
        reset_at, _remaining = await self.limiter.get_window_stats(self.rate, "login", address)
        return Refusal("address", max(1, math.ceil(reset_at - time.time())))


async def audit(
    conn: AsyncConnection, event: str, username: str, address: str, details: dict[str, Any]
) -> None:
    """One `auth_event` row; the user id is filled in when the username exists."""
    await conn.execute(
        _AUDIT,
        {
            "event": event,
            "username": username.strip(),
            "masked": mask_username(username),
            "address": mask_address(address),
            "details": json.dumps(details),
        },
    )


def login_guard(request: Request, settings: Settings) -> LoginGuard:
    """This app's guard, made on first use (its address counts live as long as the process)."""
    guard = getattr(request.app.state, "login_guard", None)
    if not isinstance(guard, LoginGuard) or guard.settings is not settings:
        guard = LoginGuard(settings)
        request.app.state.login_guard = guard
    return guard
