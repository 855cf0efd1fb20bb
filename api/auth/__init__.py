"""Staff authentication: argon2 password hashes, HS256 access tokens and role checks.

Customers stay anonymous; advisors, supervisors and operators log in with the
OAuth2 password flow (`POST /api/auth/token`) and send `Authorization: Bearer`.
Every request re-reads the token's user (`api.auth.access`), so deactivation
takes effect at once; logins are throttled (`api.auth.throttle`); routes protect
themselves with the `Annotated` aliases of `api.auth.deps` (`SupervisorDep`,
`StaffDep`, ...) and of `api.auth.scope` (the caller's branches).
"""

from api.auth.principal import ROLES, Principal

__all__ = ["ROLES", "Principal"]
