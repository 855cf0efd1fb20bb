"""Bodies of the auth endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from api.auth.principal import Principal


class TokenResponse(BaseModel):
    """RFC 6749 token response (snake_case, as OAuth2 clients expect) plus the role."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int
    role: str


class MeResponse(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    user_id: int
    username: str
    role: str
    advisor_id: int | None

    @classmethod
    def of(cls, principal: Principal) -> MeResponse:
        return cls(
            user_id=principal.user_id,
            username=principal.username,
            role=principal.role,
            advisor_id=principal.advisor_id,
        )
