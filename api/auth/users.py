"""Staff users: creation (validated, hashed), login and the bootstrap supervisor.

The `app_user` queries are in `db.users`; Argon2 work (`domain.passwords`) runs
in a thread so the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.principal import ROLES, Principal
from db import users as store
from db.users import UserExists
from domain.passwords import hash_password, verify_password
from settings import Settings

log = logging.getLogger("ticketero.auth")

MAX_USERNAME = 100


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
    user_id = await store.insert_user(engine, name, password_hash, role, advisor_id)
    return Principal(user_id=user_id, username=name, role=role, advisor_id=advisor_id)


async def authenticate(engine: AsyncEngine, username: str, password: str) -> Principal | None:
    """The user for these credentials, or None (unknown, wrong password or inactive).

    The password is always verified, against a dummy hash when the user does
    not exist, so every failure takes about as long as a success.
    """
    user = await store.find_user(engine, username)
    stored = None if user is None else user.password_hash
    ok = await asyncio.to_thread(verify_password, password, stored)
    if user is None or not ok or not user.active:
        return None
    return Principal(
        user_id=user.id, username=user.username, role=user.role, advisor_id=user.advisor_id
    )


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
        async with engine.connect() as conn:
            created = not await store.username_taken(conn, username)
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
