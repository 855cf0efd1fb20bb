"""Staff login (OAuth2 password flow) and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.auth.deps import BEARER, StaffDep
from api.auth.tokens import issue_token
from api.auth.users import authenticate
from api.deps import ResourcesDep
from api.errors import ApiError
from api.schemas.auth import MeResponse, TokenResponse

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    res: ResourcesDep,
    response: Response,
) -> TokenResponse:
    """Exchange `username` and `password` (form fields) for a bearer access token."""
    principal = await authenticate(res.engine, form.username, form.password)
    if principal is None:
        raise ApiError(401, "Incorrect username or password", headers=BEARER)
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
