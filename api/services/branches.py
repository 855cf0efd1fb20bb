"""Branches staff register, the check that a ticket names one, and the branches' kiosks."""

from __future__ import annotations

from datetime import time

from api.errors import ApiError
from api.limits import TicketRateLimits
from api.resources import Resources
from api.services.supervision import branch_key
from db import branches as store
from db import kiosks as kiosk_store
from db.tickets import BranchRow


async def create_branch(
    res: Resources, name: str, time_zone: str, opens_at: time | None, closes_at: time | None
) -> BranchRow:
    async with res.engine.begin() as conn:
        created = await store.create_branch(conn, name, time_zone, opens_at, closes_at)
    if created is None:
        raise ApiError(409, "branch.exists", params={"branch": repr(name)}, field="name")
    return created


async def unknown_branch(res: Resources, name: str, field: str = "branchOffice") -> ApiError:
    """A 404 naming the known branches (the first `BRANCHES_IN_ERROR_MAX`), so a kiosk
    or a person who mistyped the name sees what exists."""
    cap = res.settings.branches_in_error_max
    async with res.engine.connect() as conn:
        names = await store.branch_names(conn, cap) if cap else []
        total = await store.count_branches(conn)
    return ApiError(
        404,
        "branch.unknown",
        params={"branch": repr(name)},
        field=field,
        extra={"knownBranches": names, "knownBranchesTotal": total},
    )


# Names of branches seen to exist, lower-cased. Branches are never deleted or renamed, so
# a known name stays known and ticket creation does not take a database connection for it.
_known: set[str] = set()
_KNOWN_MAX = 10_000


async def require_branch(res: Resources, name: str) -> None:
    """A 404 listing the known branches unless `name` is a registered branch."""
    key = name.lower()
    if key in _known:
        return
    async with res.engine.connect() as conn:
        found = await store.find_branch(conn, name)
    if found is None:
        raise await unknown_branch(res, name)
    if len(_known) < _KNOWN_MAX:
        _known.add(key)


async def admit_ticket(
    res: Resources,
    limits: TicketRateLimits,
    address: str,
    kiosk_token: str | None,
    branch_office: str,
) -> None:
    """The rate limit of whoever asks for a ticket: a kiosk (valid token, its own branch)
    or else the client address. A token that is not valid is a 401, never a fallback."""
    if kiosk_token is None:
        limits.admit_address(address)
        return
    async with res.engine.connect() as conn:
        kiosk = await kiosk_store.by_token(conn, kiosk_token.strip())
    if kiosk is None:
        raise ApiError(401, "kiosk.bad_token", field="X-Kiosk-Token")
    if kiosk.branch_office.lower() != branch_office.lower():
        raise ApiError(
            403,
            "kiosk.other_branch",
            params={"branch": repr(kiosk.branch_office)},
            field="branchOffice",
        )
    limits.admit_kiosk(kiosk.id)


async def issue_kiosk(
    res: Resources, branch: str, label: str, created_by: str
) -> tuple[kiosk_store.KioskRow, str]:
    async with res.engine.begin() as conn:
        found = await store.find_branch(conn, branch_key(branch))
        if found is None:
            raise ApiError(404, "branch.not_found", params={"branch": repr(branch)})
        return await kiosk_store.issue(conn, found.id, label, created_by)


async def list_kiosks(
    res: Resources, branch: str, limit: int, offset: int
) -> tuple[int, list[kiosk_store.KioskRow]]:
    async with res.engine.connect() as conn:
        found = await store.find_branch(conn, branch_key(branch))
        if found is None:
            raise ApiError(404, "branch.not_found", params={"branch": repr(branch)})
        total = await kiosk_store.count(conn, found.id)
        return total, await kiosk_store.list_page(conn, found.id, limit, offset)


async def revoke_kiosk(res: Resources, branch: str, kiosk_id: int) -> None:
    async with res.engine.begin() as conn:
        found = await store.find_branch(conn, branch_key(branch))
        if found is None or not await kiosk_store.revoke(conn, found.id, kiosk_id):
            raise ApiError(
                404, "kiosk.not_found", params={"kiosk": kiosk_id, "branch": repr(branch)}
            )
