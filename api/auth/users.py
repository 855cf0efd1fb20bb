"""Staff users in `app_user`: creation, login and the bootstrap supervisor.

Usernames are unique case-insensitively (index on `lower(username)`) and are
looked up the same way. Argon2 work runs in a thread so the event loop keeps
serving other requests.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.passwords import hash_password, verify_password
from api.auth.principal import ROLES, Principal
from settings import Settings

log = logging.getLogger("ticketero.auth")

MAX_USERNAME = 100


class UserError(Exception):
    """A user cannot be created as asked; the message is safe to show."""


class UserExists(UserError):
    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} already exists")
        self.username = username


class UnknownAdvisor(UserError):
    def __init__(self, advisor: int | str) -> None:
        super().__init__(f"no advisor {advisor!r}")
        self.advisor = advisor


class AdvisorHasUser(UserError):
    def __init__(self, advisor_id: int) -> None:
        super().__init__(f"advisor {advisor_id} already has a user")
        self.advisor_id = advisor_id


async def create_user(
    engine: AsyncEngine,
    username: str,
    password: str,
    role: str,
    advisor_id: int | None = None,
) -> Principal:
    """Insert an active user and return it.

    An advisor user must be linked to an existing advisor (`advisor_id`), other
    roles must not be. Raises `UserExists` (same name in any letter case),
    `UnknownAdvisor`, `AdvisorHasUser`, or `ValueError` for invalid input.
    """
    name = username.strip()
    if not name or len(name) > MAX_USERNAME:
        raise ValueError(f"username must be 1 to {MAX_USERNAME} characters")
    if not password:
        raise ValueError("password must not be empty")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if (role == "advisor") != (advisor_id is not None):
        raise ValueError("advisor_id is required for the advisor role and only for it")
    password_hash = await asyncio.to_thread(hash_password, password)
    async with engine.begin() as conn:
        if advisor_id is not None:
            if (
                await conn.execute(text("SELECT 1 FROM advisor WHERE id = :id"), {"id": advisor_id})
            ).first() is None:
                raise UnknownAdvisor(advisor_id)
            if (
                await conn.execute(
                    text("SELECT 1 FROM app_user WHERE advisor_id = :id"), {"id": advisor_id}
                )
            ).first() is not None:
                raise AdvisorHasUser(advisor_id)
        row = (
            await conn.execute(
                text(
                    "INSERT INTO app_user (username, password_hash, role, advisor_id)"
                    " VALUES (:username, :password_hash, :role, :advisor_id)"
                    " ON CONFLICT ((lower(username))) DO NOTHING"
                    " RETURNING id"
                ),
                {
                    "username": name,
                    "password_hash": password_hash,
                    "role": role,
                    "advisor_id": advisor_id,
                },
            )
        ).first()
    if row is None:
        raise UserExists(name)
    return Principal(user_id=int(row.id), username=name, role=role, advisor_id=advisor_id)


async def authenticate(engine: AsyncEngine, username: str, password: str) -> Principal | None:
    """The user for these credentials, or None (unknown, wrong password or inactive).

    The password is always verified, against a dummy hash when the user does
    not exist, so every failure takes about as long as a success.
    """
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT id, username, password_hash, role, advisor_id, active"
                    " FROM app_user WHERE lower(username) = lower(:username)"
                ),
                {"username": username.strip()},
            )
        ).first()
    stored = None if row is None else str(row.password_hash)
    ok = await asyncio.to_thread(verify_password, password, stored)
    if row is None or not ok or not row.active:
        return None
    return Principal(
        user_id=int(row.id),
        username=str(row.username),
        role=str(row.role),
        advisor_id=None if row.advisor_id is None else int(row.advisor_id),
    )


async def advisor_id_by_email(engine: AsyncEngine, email: str) -> int | None:
    """The id of the advisor with this email (any letter case), if any."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT id FROM advisor WHERE lower(email) = lower(:email)"),
                {"email": email.strip()},
            )
        ).first()
    return None if row is None else int(row.id)


async def ensure_bootstrap_supervisor(engine: AsyncEngine, settings: Settings) -> bool:
    """Create the supervisor named in the settings if it does not exist yet.

    Does nothing unless both `bootstrap_supervisor_username` and
    `bootstrap_supervisor_password` are set; never touches an existing user
    (its password is not reset). Returns True when it created the user. The
    password is never logged. A database that is down is logged and skipped,
    so the API still starts (and answers 503) as it does without bootstrap.
    """
    username = settings.bootstrap_supervisor_username.strip()
    password = settings.bootstrap_supervisor_password.get_secret_value()
    if not username and not password:
        return False
    if not username or not password:
        log.warning(
            "bootstrap supervisor skipped: set both BOOTSTRAP_SUPERVISOR_USERNAME"
            " and BOOTSTRAP_SUPERVISOR_PASSWORD"
        )
        return False
    try:
        created = not await _username_taken(engine, username)
        if created:
            await create_user(engine, username, password, "supervisor")
    except UserExists:
        created = False
    except (DBAPIError, OSError) as exc:
        log.warning(
            "bootstrap supervisor not created, database unavailable: %s", type(exc).__name__
        )
        return False
    if created:
        log.info("bootstrap supervisor %r created", username)
    else:
        log.info("bootstrap supervisor %r already exists", username)
    return created


async def _username_taken(engine: AsyncEngine, username: str) -> bool:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT 1 FROM app_user WHERE lower(username) = lower(:username)"),
                {"username": username.strip()},
            )
        ).first()
    return row is not None
