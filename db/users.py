"""Staff users in `app_user`: insert, look up for login, and the checks around them.

Usernames are unique case-insensitively (index on `lower(username)`) and are
looked up the same way. Passwords arrive here already hashed
(`domain.passwords`); nothing in this module hashes or verifies.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


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


@dataclass(frozen=True)
class StoredUser:
    """An `app_user` row as login needs it."""

    id: int
    username: str
    password_hash: str
    role: str
    advisor_id: int | None
    active: bool


async def insert_user(
    engine: AsyncEngine,
    username: str,
    password_hash: str,
    role: str,
    advisor_id: int | None = None,
) -> int:
    """Insert an active user and return its id.

    Raises `UnknownAdvisor` when `advisor_id` names no advisor, `AdvisorHasUser`
    when that advisor already has a user, `UserExists` when the name is taken
    in any letter case.
    """
    async with engine.begin() as conn:
        if advisor_id is not None:
            if (
                await conn.execute(text("SELECT 1 FROM advisor WHERE id = :id"), {"id": advisor_id})
            ).first() is None:
                raise UnknownAdvisor(advisor_id)
            if await advisor_has_user(conn, advisor_id):
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
                    "username": username,
                    "password_hash": password_hash,
                    "role": role,
                    "advisor_id": advisor_id,
                },
            )
        ).first()
    if row is None:
        raise UserExists(username)
    return int(row.id)


async def find_user(engine: AsyncEngine, username: str) -> StoredUser | None:
    """The user with this name in any letter case (active or not), if any."""
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
    if row is None:
        return None
    return StoredUser(
        id=int(row.id),
        username=str(row.username),
        password_hash=str(row.password_hash),
        role=str(row.role),
        advisor_id=None if row.advisor_id is None else int(row.advisor_id),
        active=bool(row.active),
    )


async def username_taken(conn: AsyncConnection, username: str) -> bool:
    """A user with this name exists, in any letter case."""
    found = await conn.execute(
        text("SELECT 1 FROM app_user WHERE lower(username) = lower(:username)"),
        {"username": username.strip()},
    )
    return found.first() is not None


async def advisor_has_user(conn: AsyncConnection, advisor_id: int) -> bool:
    found = await conn.execute(
        text("SELECT 1 FROM app_user WHERE advisor_id = :id"), {"id": advisor_id}
    )
    return found.first() is not None


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
