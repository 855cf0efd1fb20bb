"""Supervisor use cases: manage a branch (opening hours, queue settings) and its advisors.

Messages are Spanish (Chile) because supervisors read them as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.exc import IntegrityError

from api.auth.users import create_user
from api.errors import ApiError
from api.resources import Resources
from api.schemas.management import AdvisorLogin
from api.services.branches import forget_hours
from api.services.supervision import branch_settings, queue_settings
from db import advisors as advisor_store
from db import hours as hours_store
from db import supervision as store
from db.branches import count_branches
from db.tickets import ensure_branch
from db.users import UserExists

# --- branch settings --------------------------------------------------------------------


async def list_branches(
    res: Resources, limit: int | None = None, offset: int = 0
) -> tuple[int, list[store.BranchSettingsRow]]:
    """How many branches there are, and the asked page of them."""
    async with res.engine.connect() as conn:
        total = await count_branches(conn)
        return total, await store.list_branches(conn, limit, offset)


async def get_branch(res: Resources, name: str) -> store.BranchSettingsRow:
    async with res.engine.connect() as conn:
        return await branch_settings(conn, name)


async def branch_hours(res: Resources, branch_id: int) -> hours_store.BranchHoursRow | None:
    async with res.engine.connect() as conn:
        return await hours_store.hours_of(conn, branch_id)


async def edit_branch(
    res: Resources,
    name: str,
    changes: dict[str, Any],
    hours: hours_store.HoursEdit | None = None,
) -> store.BranchSettingsRow:
    """Time zone and opening hours; the resulting hours must open before they close.
    `opensAt`/`closesAt` alone retime every weekday that opens; `weeklyHours`,
    `holidays`, `openAllHours` and `earlyMinutes` replace what they name."""
    async with res.engine.begin() as conn:
        branch = await branch_settings(conn, name)
        opens: time = changes.get("opens_at", branch.opens_at)
        closes: time = changes.get("closes_at", branch.closes_at)
        if opens >= closes:
            field_name = "closesAt" if "closes_at" in changes else "opensAt"
            raise ApiError(
                422,
                "hours.opens_after_closes",
                params={"opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}"},
                field=field_name,
            )
        await store.update_branch(conn, branch.id, changes)
        if (
            hours is not None
            and hours.weekly is None
            and changes.keys() & {"opens_at", "closes_at"}
        ):
            await hours_store.retime_open_days(conn, branch.id, opens, closes)
        if hours is not None:
            await hours_store.apply_edit(conn, branch.id, hours)
        edited = await branch_settings(conn, branch.name)
    forget_hours()
    return edited


async def edit_queue(
    res: Resources, name: str, queue_name: str, changes: dict[str, Any]
) -> store.BranchSettingsRow:
    """Queue settings; a new average service time restarts the moving average from it."""
    if "avg_service_seconds" in changes:
        changes = {**changes, "service_samples": 0}
    async with res.engine.begin() as conn:
        branch = await branch_settings(conn, name)
        queue = queue_settings(branch, queue_name)
        await store.update_queue(conn, branch.id, queue.queue, changes)
        return await branch_settings(conn, branch.name)


# --- advisors ---------------------------------------------------------------------------


async def create_advisor(
    res: Resources, branch_office: str, new: advisor_store.NewAdvisor, login: AdvisorLogin | None
) -> advisor_store.AdvisorRow:
    """Register an advisor (OFFLINE) and, when asked, their user; the branch may be new."""
    async with res.engine.begin() as conn:
        branch = await ensure_branch(conn, branch_office, res.settings.default_time_zone)
        if await advisor_store.email_taken(conn, new.email):
            raise ApiError(409, "advisor.email_taken", params={"email": new.email}, field="email")
        if await advisor_store.desk_taken(conn, branch.id, new.desk):
            raise _desk_taken(new.desk, branch.name)
        if login is not None and await advisor_store.username_taken(conn, login.username):
            raise _username_taken(login.username)
        try:
            async with conn.begin_nested():
                advisor_id = await advisor_store.insert_advisor(conn, branch.id, new)
        except IntegrityError as err:
            raise _conflict(err, new.desk, branch.name) from None
    if login is not None:
        try:
            await create_user(res.engine, login.username, login.password, "advisor", advisor_id)
        except UserExists:
            async with res.engine.begin() as conn:
                await advisor_store.delete_advisor(conn, advisor_id)
            raise _username_taken(login.username) from None
    return await get_advisor(res, advisor_id)


async def get_advisor(res: Resources, advisor_id: int) -> advisor_store.AdvisorRow:
    async with res.engine.connect() as conn:
        advisor = await advisor_store.get_advisor(conn, advisor_id)
    if advisor is None:
        raise ApiError(404, "advisor.not_found_id", params={"advisor": advisor_id})
    return advisor


async def list_advisors(
    res: Resources, branch_office: str | None
) -> list[advisor_store.AdvisorRow]:
    async with res.engine.connect() as conn:
        branch_id = (
            None if branch_office is None else (await branch_settings(conn, branch_office)).id
        )
        return await advisor_store.list_advisors(conn, branch_id)


async def edit_advisor(
    res: Resources,
    advisor_id: int,
    *,
    name: str | None = None,
    desk: int | None = None,
    queues: list[str] | None = None,
    active: bool | None = None,
) -> advisor_store.AdvisorRow:
    """Rename, move, re-skill or (de)activate; an advisor holding a ticket stays active."""
    async with res.engine.begin() as conn:
        advisor = await advisor_store.lock_advisor(conn, advisor_id)
        if advisor is None:
            raise ApiError(404, "advisor.not_found_id", params={"advisor": advisor_id})
        if active is False and advisor.current_ticket is not None:
            raise ApiError(
                409,
                "advisor.serving",
                field="active",
            )
        will_be_active = advisor.active if active is None else active
        new_desk = advisor.desk if desk is None else desk
        moved = new_desk != advisor.desk or (will_be_active and not advisor.active)
        if (
            will_be_active
            and moved
            and await advisor_store.desk_taken(
                conn, advisor.branch_id, new_desk, except_id=advisor.id
            )
        ):
            raise _desk_taken(new_desk, None)
        try:
            async with conn.begin_nested():
                await advisor_store.update_advisor(
                    conn,
                    advisor.id,
                    name=name,
                    desk=desk,
                    queues=queues,
                    active=active,
                    now=datetime.now(UTC),
                )
        except IntegrityError as err:
            raise _conflict(err, new_desk, None) from None
    return await get_advisor(res, advisor_id)


def _desk_taken(desk: int, branch: str | None) -> ApiError:
    where = f" de la sucursal {branch}" if branch else ""
    return ApiError(409, "advisor.desk_taken", params={"desk": f"{desk}{where}"}, field="desk")


def _username_taken(username: str) -> ApiError:
    return ApiError(
        409, "user.username_taken", params={"username": repr(username)}, field="username"
    )


def _conflict(err: IntegrityError, desk: int, branch: str | None) -> ApiError:
    """A concurrent request won a unique index: the same 409 the checks give."""
    found = advisor_store.conflicting_field(err)
    if found == "email":
        return ApiError(409, "advisor.email_taken_plain", field="email")
    if found == "desk":
        return _desk_taken(desk, branch)
    raise err
