"""Branches staff register, the check that a ticket names one, and the branches' kiosks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.db_reads import lookup
from api.error_messages import Localized
from api.errors import ApiError
from api.limits import TicketRateLimits
from api.resources import Resources
from api.schemas.branches import BranchCreate
from api.services import kiosk_tokens
from api.services.short_cache import ShortCache
from api.services.supervision import branch_key
from db import branches as store
from db import hours as hours_store
from db import kiosks as kiosk_store
from db.tickets import BranchRow
from domain.hours import accepts_tickets, describe_opening, next_opening


async def create_branch(res: Resources, body: BranchCreate) -> BranchRow:
    async with res.engine.begin() as conn:
        created = await store.create_branch(
            conn,
            body.name,
            body.time_zone,
            body.opens_at,
            body.closes_at,
            weekly=body.weekly(),
            holidays=[h.domain() for h in body.holidays],
            open_all_hours=body.open_all_hours,
            early_minutes=body.early_minutes,
        )
    if created is None:
        raise ApiError(409, "branch.exists", params={"branch": repr(body.name)}, field="name")
    forget_hours()
    return created


# Hours by lower-cased branch name, for a few seconds: a kiosk's burst of tickets does not
# take a database connection each (one lookup per branch in flight). Edits through this
# process forget them at once.
_HOURS_TTL_SECONDS = 5.0
_hours_cache: ShortCache[str, hours_store.BranchHoursRow] = ShortCache(
    _HOURS_TTL_SECONDS, 10_000, keep_none=True
)


async def _hours(res: Resources, name: str) -> hours_store.BranchHoursRow | None:
    async def fetch() -> hours_store.BranchHoursRow | None:
        async with lookup(res.engine) as conn:
            return await hours_store.hours_by_name(conn, name)

    return await _hours_cache.get(name.lower(), fetch)


def forget_hours() -> None:
    """Drop the cached hours (after a branch's hours change)."""
    _hours_cache.forget()


async def require_open(res: Resources, name: str, now: datetime | None = None) -> None:
    """A 409 naming the next opening (in the branch's zone, and as `nextOpening`) unless
    the branch takes tickets now: open, or opening within its early minutes."""
    at = now or datetime.now(UTC)
    found = await _hours(res, name)
    if found is None or accepts_tickets(found.schedule, at):
        return
    schedule = found.schedule
    opening = next_opening(schedule, at)
    extra: dict[str, str | None] = {
        "code": "BRANCH_CLOSED",
        "nextOpening": None,
        "ticketsFrom": None,
        "timeZone": schedule.time_zone,
    }
    if opening is None:
        raise ApiError(
            409,
            "branch.closed_no_hours",
            params={"branch": found.name},
            field="branchOffice",
            extra=extra,
        )
    tickets_from = opening - timedelta(minutes=schedule.early_minutes)
    extra["nextOpening"] = opening.astimezone(schedule.zone).isoformat()
    extra["ticketsFrom"] = tickets_from.astimezone(schedule.zone).isoformat()
    zone = schedule.time_zone
    params: dict[str, object] = {
        "branch": found.name,
        "opening": Localized(
            es=describe_opening(opening, zone, "es"), en=describe_opening(opening, zone, "en")
        ),
        "zone": zone,
    }
    if schedule.early_minutes:
        params["tickets_from"] = f"{tickets_from.astimezone(schedule.zone):%H:%M}"
        raise ApiError(409, "branch.closed_early", params=params, field="branchOffice", extra=extra)
    raise ApiError(409, "branch.closed", params=params, field="branchOffice", extra=extra)


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
    kiosk = await _kiosk(res, kiosk_token.strip())
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


async def _kiosk(res: Resources, token: str) -> kiosk_store.KioskRow | None:
    """The token's active kiosk; valid tokens are believed for a few seconds
    (api.services.kiosk_tokens, which bounds how late a revocation takes effect)."""
    hashed = kiosk_store.token_hash(token)

    async def fetch() -> kiosk_store.KioskRow | None:
        async with lookup(res.engine) as conn:
            return await kiosk_store.by_token_hash(conn, hashed)

    return await kiosk_tokens.kiosk_of(hashed, fetch)


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
    kiosk_tokens.forget()  # committed: this process stops accepting the token at once
