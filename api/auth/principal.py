"""Who is calling: the identity carried by an access token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Every staff role, as stored in `app_user.role`.
ROLES: Final = ("advisor", "supervisor", "operator")


@dataclass(frozen=True)
class Principal:
    """An authenticated staff user; `advisor_id` is set only for the advisor role.

    `branches` are the ids of the branches the user may see and act on, as read from
    the database on each request (`api.auth.access`): an advisor's own branch, a
    supervisor's assigned branches; None means every branch (operators, and
    supervisors assigned to none). A principal built from a token alone has None.
    """

    user_id: int
    username: str
    role: str
    advisor_id: int | None
    branches: frozenset[int] | None = None

    def sees_branch(self, branch_id: int) -> bool:
        return self.branches is None or branch_id in self.branches
