"""Which branches a caller may see and act on.

Advisors act on their own branch's tickets only; supervisors see the branches
assigned to them in `app_user_branch` (every branch when none is assigned: the
bootstrap supervisor, a head-office supervisor); operators see everything.
Routes swap their role alias for one of these, which also checks the branch of
the addressed branch, ticket or advisor (403 with a clear message when it is
outside the caller's branches; what does not exist is left to the route's 404):

    @router.get("/api/branches/{branch}/dashboard")
    async def dashboard(branch: str, who: BranchSupervisorDep, ...) -> ...
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Path, Query
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.auth.deps import AdvisorDep, StaffDep, SupervisorDep, require_roles
from api.auth.principal import Principal
from api.deps import ResourcesDep
from api.errors import ApiError
from domain.numbering import business_day

__all__ = [
    "AdvisorSupervisorDep",
    "BranchAdminDep",
    "BranchStaffDep",
    "BranchSupervisorDep",
    "TicketAdvisorDep",
    "TicketRefDep",
    "TicketStaffDep",
    "assign_branches",
    "find_branches",
    "require_branch_name",
]

OTHER_BRANCH = "outside your branches"


def branch_key(raw: str) -> str:
    """A branch name as stored: spaces collapsed (like ticket creation)."""
    return " ".join(raw.split())


async def branch_id_by_name(conn: AsyncConnection, name: str) -> int | None:
    row = (
        await conn.execute(
            text("SELECT id FROM branch WHERE lower(name) = lower(:n)"), {"n": branch_key(name)}
        )
    ).first()
    return None if row is None else int(row.id)


async def _scalar_id(engine: AsyncEngine, sql: str, key: object) -> int | None:
    async with engine.connect() as conn:
        value = (await conn.execute(text(sql), {"k": key})).scalar()
    return None if value is None else int(value)


async def require_branch_name(
    engine: AsyncEngine, who: Principal, name: str, *, must_exist: bool = False
) -> None:
    """403 unless `who` may act on the branch called `name`.

    A branch that does not exist passes (the route answers 404, or creates it),
    unless `must_exist`: a caller limited to some branches cannot create others.
    """
    if who.branches is None:
        return
    async with engine.connect() as conn:
        branch_id = await branch_id_by_name(conn, name)
    if branch_id is None and not must_exist:
        return
    if branch_id is None or not who.sees_branch(branch_id):
        raise ApiError(403, "scope.branch", params={"branch": repr(branch_key(name)[:100])})


async def _ticket_in_scope(engine: AsyncEngine, who: Principal, reference: uuid.UUID) -> Principal:
    if who.branches is not None:
        branch_id = await _scalar_id(
            engine, "SELECT branch_id FROM ticket WHERE reference = :k", reference
        )
        if branch_id is not None and not who.sees_branch(branch_id):
            raise ApiError(403, "scope.ticket")
    return who


_NUMBER = re.compile(r"[A-Z]{1,3}[0-9]{2,6}")


async def resolve_ticket(
    engine: AsyncEngine, who: Principal, raw: str, branch: str | None
) -> uuid.UUID:
    """A reference as given, or a number (`C06`) of today's business day at the caller's
    branch (advisors: theirs; others name it with `?branch=` when they see several)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        pass
    number = raw.strip().upper()
    if _NUMBER.fullmatch(number) is None:
        raise ApiError(422, "ticket.ref_or_number", field="reference")
    async with engine.connect() as conn:
        if branch is not None:
            branch_id = await branch_id_by_name(conn, branch)
            if branch_id is None:
                raise ApiError(
                    404, "branch.not_found", params={"branch": repr(branch_key(branch)[:100])}
                )
            if not who.sees_branch(branch_id):
                raise ApiError(
                    403, "scope.branch", params={"branch": repr(branch_key(branch)[:100])}
                )
        elif who.branches is not None and len(who.branches) == 1:
            (branch_id,) = who.branches
        else:
            raise ApiError(400, "ticket.number_needs_branch")
        time_zone = (
            await conn.execute(text("SELECT time_zone FROM branch WHERE id = :b"), {"b": branch_id})
        ).scalar()
        found = None
        if time_zone is not None:
            found = (
                await conn.execute(
                    text(
                        "SELECT reference FROM ticket WHERE branch_id = :b AND number = :n"
                        " AND business_day = :d"
                    ),
                    {"b": branch_id, "n": number, "d": business_day(datetime.now(UTC), time_zone)},
                )
            ).scalar()
    if found is None:
        raise ApiError(404, "ticket.number_not_today", params={"number": number})
    return uuid.UUID(str(found))


async def _ticket_ref(
    reference: Annotated[str, Path(max_length=64, description="reference, or today's number")],
    who: StaffDep,
    res: ResourcesDep,
    branch: Annotated[str | None, Query(max_length=200)] = None,
) -> uuid.UUID:
    return await resolve_ticket(res.engine, who, reference, branch)


#: The `{reference}` ticket: a reference, or (staff only) its number within the branch and
#: today's business day.
TicketRefDep = Annotated[uuid.UUID, Depends(_ticket_ref)]


async def _ticket_staff(ticket: TicketRefDep, who: StaffDep, res: ResourcesDep) -> Principal:
    return await _ticket_in_scope(res.engine, who, ticket)


async def _ticket_advisor(ticket: TicketRefDep, who: AdvisorDep, res: ResourcesDep) -> Principal:
    return await _ticket_in_scope(res.engine, who, ticket)


async def _branch_supervisor(branch: str, who: SupervisorDep, res: ResourcesDep) -> Principal:
    await require_branch_name(res.engine, who, branch)
    return who


async def _branch_staff(branch: str, who: StaffDep, res: ResourcesDep) -> Principal:
    await require_branch_name(res.engine, who, branch)
    return who


async def _branch_admin(
    branch: str,
    who: Annotated[Principal, Depends(require_roles("supervisor", "operator"))],
    res: ResourcesDep,
) -> Principal:
    await require_branch_name(res.engine, who, branch)
    return who


async def _advisor_supervisor(
    advisor_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    who: SupervisorDep,
    res: ResourcesDep,
) -> Principal:
    if who.branches is not None:
        branch_id = await _scalar_id(
            res.engine, "SELECT branch_id FROM advisor WHERE id = :k", advisor_id
        )
        if branch_id is not None and not who.sees_branch(branch_id):
            raise ApiError(403, "scope.advisor", params={"advisor": advisor_id})
    return who


#: Any staff role, limited to the branch of the `{reference}` ticket.
TicketStaffDep = Annotated[Principal, Depends(_ticket_staff)]
#: An advisor of the `{reference}` ticket's branch.
TicketAdvisorDep = Annotated[Principal, Depends(_ticket_advisor)]
#: A supervisor of the `{branch}` branch.
BranchSupervisorDep = Annotated[Principal, Depends(_branch_supervisor)]
#: Any staff role of the `{branch}` branch (its advisors, its supervisors, operators).
BranchStaffDep = Annotated[Principal, Depends(_branch_staff)]
#: A supervisor of the branch named in the path, or an operator.
BranchAdminDep = Annotated[Principal, Depends(_branch_admin)]
#: A supervisor of the `{advisor_id}` advisor's branch.
AdvisorSupervisorDep = Annotated[Principal, Depends(_advisor_supervisor)]


async def find_branches(engine: AsyncEngine, names: Sequence[str]) -> list[tuple[int, str]]:
    """The id and stored name of each named branch; `LookupError` names one that is missing."""
    found: list[tuple[int, str]] = []
    async with engine.connect() as conn:
        for name in names:
            row = (
                await conn.execute(
                    text("SELECT id, name FROM branch WHERE lower(name) = lower(:n)"),
                    {"n": branch_key(name)},
                )
            ).first()
            if row is None:
                raise LookupError(f"no branch {branch_key(name)!r}")
            found.append((int(row.id), str(row.name)))
    return found


async def assign_branches(engine: AsyncEngine, user_id: int, branch_ids: Sequence[int]) -> None:
    """Limit a supervisor to these branches (added to any they already have)."""
    async with engine.begin() as conn:
        for branch_id in branch_ids:
            await conn.execute(
                text(
                    "INSERT INTO app_user_branch (user_id, branch_id) VALUES (:u, :b)"
                    " ON CONFLICT DO NOTHING"
                ),
                {"u": user_id, "b": branch_id},
            )
