"""Who a token's user is now: each request re-reads the user from the database.

A token proves who logged in; whether they may still act is checked per request
with one primary-key lookup of `app_user` (joined to its advisor and the
supervisor's branches): a user deactivated, an advisor deactivated, or a role
or advisor link changed since login makes the token useless at once (401).
"""

from __future__ import annotations

from typing import Protocol

from fastapi import Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.principal import Principal
from api.db_reads import lookup
from api.errors import ApiError

_LOOKUP = text(
    "SELECT u.id, u.username, u.role, u.advisor_id, u.active,"
    " a.active AS advisor_active, a.branch_id AS advisor_branch,"
    " ARRAY(SELECT ub.branch_id FROM app_user_branch ub WHERE ub.user_id = u.id) AS branches"
    " FROM app_user u LEFT JOIN advisor a ON a.id = u.advisor_id WHERE u.id = :id"
)


class StaffDirectory(Protocol):
    async def find(self, user_id: int) -> Principal | None:
        """The active user with this id and what they may see, or None."""
        ...


class DatabaseDirectory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def find(self, user_id: int) -> Principal | None:
        if not 0 < user_id < 2**31:
            return None
        async with lookup(self.engine) as conn:  # one statement: no BEGIN/ROLLBACK
            row = (await conn.execute(_LOOKUP, {"id": user_id})).first()
        if row is None or not row.active:
            return None
        branches: frozenset[int] | None
        if row.role == "advisor":
            if row.advisor_id is None or not row.advisor_active:
                return None
            branches = frozenset({int(row.advisor_branch)})
        elif row.role == "supervisor":
            branches = frozenset(int(b) for b in row.branches) or None
        else:
            branches = None
        return Principal(
            user_id=int(row.id),
            username=str(row.username),
            role=str(row.role),
            advisor_id=None if row.advisor_id is None else int(row.advisor_id),
            branches=branches,
        )


async def staff_directory(request: Request) -> StaffDirectory:
    """The database of the app's resources (made in its lifespan). Async so FastAPI does
    not run it in its thread pool."""
    engine = getattr(getattr(request.app.state, "resources", None), "engine", None)
    if not isinstance(engine, AsyncEngine):
        raise ApiError(503, "service.starting", headers={"Retry-After": "2"})
    return DatabaseDirectory(engine)
