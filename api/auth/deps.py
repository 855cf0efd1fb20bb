"""FastAPI dependencies: who is calling, and may they.

`current_principal` reads `Authorization: Bearer <token>`; a missing, invalid
or expired token is a 401 with `WWW-Authenticate: Bearer` in the project's
JSON error shape. `require_roles(...)` adds a 403 for the wrong role. Routes
use the `Annotated` aliases:

    @router.get("/x")
    async def x(who: SupervisorDep) -> ...

Each request re-reads the token's user from the database (`api.auth.access`): a
user or advisor deactivated, or whose role or advisor changed, since login gets
a 401 at once. The principal carries the branches the user may see; routes that
address a branch, a ticket or an advisor check it with `api.auth.scope`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.auth.access import StaffDirectory, staff_directory
from api.auth.principal import ROLES, Principal
from api.auth.tokens import TokenError, decode_token
from api.errors import ApiError
from settings import Settings, get_settings

__all__ = [
    "AdvisorDep",
    "OperatorDep",
    "Principal",
    "StaffDep",
    "SupervisorDep",
    "auth_settings",
    "current_principal",
    "oauth2_scheme",
    "require_roles",
    "settings_of",
]

TOKEN_URL = "/api/auth/token"  # noqa: S105 - a path, not a secret
BEARER = {"WWW-Authenticate": "Bearer"}
REVOKED = "Access token no longer valid: the user is inactive or changed; log in again"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def settings_of(request: Request) -> Settings:
    """The app's settings (from its lifespan resources), else the process settings."""
    resources = getattr(request.app.state, "resources", None)
    settings = getattr(resources, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


async def auth_settings(request: Request) -> Settings:
    """`settings_of` as a dependency; async so FastAPI does not run it in its thread pool."""
    return settings_of(request)


async def current_principal(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    settings: Annotated[Settings, Depends(auth_settings)],
    directory: Annotated[StaffDirectory, Depends(staff_directory)],
) -> Principal:
    """The caller of a valid bearer token whose user is still active as it was, or a 401."""
    if not token:
        raise ApiError(401, "auth.not_authenticated", headers=BEARER)
    try:
        claimed = decode_token(token, settings)
    except TokenError as exc:
        raise ApiError(401, "auth.invalid_token", headers=BEARER) from exc
    found = await directory.find(claimed.user_id)
    if found is None or (found.role, found.advisor_id) != (claimed.role, claimed.advisor_id):
        raise ApiError(401, "auth.revoked", headers=BEARER)
    return found


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency giving the caller when their role is one of `roles`, else a 403."""
    if not roles or any(role not in ROLES for role in roles):
        raise ValueError(f"roles must be among {', '.join(ROLES)}")
    allowed = frozenset(roles)

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in allowed:
            raise ApiError(403, "auth.requires_role", params={"roles": " / ".join(roles)})
        return principal

    return dependency


AdvisorDep = Annotated[Principal, Depends(require_roles("advisor"))]
SupervisorDep = Annotated[Principal, Depends(require_roles("supervisor"))]
OperatorDep = Annotated[Principal, Depends(require_roles("operator"))]
StaffDep = Annotated[Principal, Depends(require_roles(*ROLES))]
