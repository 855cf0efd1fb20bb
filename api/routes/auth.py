"""Staff login (OAuth2 password flow) and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.auth.deps import BEARER, StaffDep
from api.auth.throttle import client_address, login_guard
from api.auth.tokens import issue_token
from api.auth.users import authenticate
from api.deps import ResourcesDep
from api.error_docs import errors
from api.errors import ApiError
from api.schemas.auth import MeResponse, TokenResponse

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse, responses=errors(401, 429))
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    res: ResourcesDep,
    request: Request,
    response: Response,
) -> TokenResponse:
    """Exchange `username` and `password` (form fields) for a bearer access token.

    429 with `Retry-After` while the username is locked out after repeated failures,
    or while the client address has failed too often (see `api.auth.throttle`).
    """
    guard, address = login_guard(request, res.settings), client_address(request)
    refusal = await guard.check(res.engine, form.username, address)
    if refusal is not None:
        raise refusal.error()
    principal = await authenticate(res.engine, form.username, form.password)
    if principal is None:
        await guard.failed(res.engine, form.username, address)
        raise ApiError(401, "auth.bad_credentials", headers=BEARER)
    await guard.succeeded(res.engine, form.username)
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(
        access_token=issue_token(principal, res.settings),
        expires_in=res.settings.jwt_ttl_minutes * 60,
        role=principal.role,
    )


@router.get("/me", response_model=MeResponse, response_model_by_alias=True)
async def me(principal: StaffDep) -> MeResponse:
    """The authenticated caller: user id, username, role and advisor id."""
    return MeResponse.of(principal)
