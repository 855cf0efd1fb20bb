"""Staff authentication: argon2 password hashes, HS256 access tokens and role checks.

Customers stay anonymous; advisors, supervisors and operators log in with the
OAuth2 password flow (`POST /api/auth/token`) and send `Authorization: Bearer`.
Tokens are stateless: a user deactivated after login keeps access until the
token expires (`JWT_TTL_MINUTES`). Routes protect themselves with the
`Annotated` aliases of `api.auth.deps` (`SupervisorDep`, `StaffDep`, ...).
"""

from api.auth.principal import ROLES, Principal

__all__ = ["ROLES", "Principal"]
