"""Who is calling: the identity carried by an access token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Every staff role, as stored in `app_user.role`.
ROLES: Final = ("advisor", "supervisor", "operator")


@dataclass(frozen=True)
class Principal:
    """An authenticated staff user; `advisor_id` is set only for the advisor role."""

    user_id: int
    username: str
    role: str
    advisor_id: int | None
