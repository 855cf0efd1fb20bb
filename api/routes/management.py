"""What a supervisor configures: branch hours and time zone, queue settings, advisors.

The bodies (and their Spanish validation messages) are in `api.schemas.management`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.auth.deps import SupervisorDep
from api.auth.scope import AdvisorSupervisorDep, BranchSupervisorDep, require_branch_name
from api.deps import ResourcesDep
from api.error_docs import errors
from api.pagination import PageDep
from api.schemas.hours import BranchHoursOut
from api.schemas.management import (
    AdvisorCreate,
    AdvisorOut,
    AdvisorPatch,
    BranchEdit,
    BranchOut,
    QueueEdit,
)
from api.services import management as service

router = APIRouter(tags=["management"])

AdvisorId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/api/branches", response_model=list[BranchOut])
async def list_branches(who: SupervisorDep, res: ResourcesDep, page: PageDep) -> list[BranchOut]:
    """The caller's branches by name, with time zone, opening hours and queue settings
    (paged)."""
    if who.branches is None:
        total, branches = await service.list_branches(res, page.limit, page.offset)
        page.describe(total)
    else:
        _, every = await service.list_branches(res)
        branches = page.slice([b for b in every if who.sees_branch(b.id)])
    return [BranchOut.model_validate(b) for b in branches]


@router.get("/api/branches/{branch}", response_model=BranchOut)
async def get_branch(branch: str, who: BranchSupervisorDep, res: ResourcesDep) -> BranchOut:
    return await _with_hours(res, BranchOut.model_validate(await service.get_branch(res, branch)))


@router.put("/api/branches/{branch}", response_model=BranchOut, responses=errors(409))
async def edit_branch(
    branch: str, body: BranchEdit, who: BranchSupervisorDep, res: ResourcesDep
) -> BranchOut:
    """Change the time zone and/or opening hours; fields left out keep their value."""
    edited = await service.edit_branch(res, branch, body.changes(), body.hours())
    return await _with_hours(res, BranchOut.model_validate(edited))


async def _with_hours(res: ResourcesDep, out: BranchOut) -> BranchOut:
    found = await service.branch_hours(res, out.id)
    return out if found is None else out.model_copy(update={"hours": BranchHoursOut.of(found)})


@router.put("/api/branches/{branch}/queues/{queue}", response_model=BranchOut)
async def edit_queue(
    branch: str, queue: str, body: QueueEdit, who: BranchSupervisorDep, res: ResourcesDep
) -> BranchOut:
    """Change a queue's settings; a new average service time re-seeds the measured one."""
    return BranchOut.model_validate(await service.edit_queue(res, branch, queue, body.changes()))


# --- advisors ---------------------------------------------------------------------------


@router.post(
    "/api/advisors", status_code=201, response_model=AdvisorOut, responses=errors(404, 409)
)
async def create_advisor(
    body: AdvisorCreate, who: SupervisorDep, res: ResourcesDep, response: Response
) -> AdvisorOut:
    """Register an advisor (OFFLINE); with username and password also their login."""
    await require_branch_name(res.engine, who, body.branch_office, must_exist=True)
    created = await service.create_advisor(res, body.branch_office, body.advisor(), body.login())
    response.headers["Location"] = f"/api/advisors/{created.id}"
    return AdvisorOut.model_validate(created)


@router.get("/api/advisors", response_model=list[AdvisorOut], responses=errors(404))
async def list_advisors(
    who: SupervisorDep,
    res: ResourcesDep,
    page: PageDep,
    branch_office: Annotated[str | None, Query(alias="branchOffice", max_length=100)] = None,
) -> list[AdvisorOut]:
    """Every advisor of the caller's branches, inactive ones included (paged);
    `branchOffice` narrows to one branch."""
    if branch_office is not None:
        await require_branch_name(res.engine, who, branch_office)
    found = await service.list_advisors(res, branch_office)
    mine = page.slice([a for a in found if who.sees_branch(a.branch_id)])
    return [AdvisorOut.model_validate(a) for a in mine]


@router.get("/api/advisors/{advisor_id}", response_model=AdvisorOut)
async def get_advisor(
    advisor_id: AdvisorId, who: AdvisorSupervisorDep, res: ResourcesDep
) -> AdvisorOut:
    return AdvisorOut.model_validate(await service.get_advisor(res, advisor_id))


@router.patch("/api/advisors/{advisor_id}", response_model=AdvisorOut, responses=errors(409))
async def edit_advisor(
    advisor_id: AdvisorId, body: AdvisorPatch, who: AdvisorSupervisorDep, res: ResourcesDep
) -> AdvisorOut:
    """Rename, move desk, change queues, (de)activate; 409 on a taken desk or a held ticket."""
    return AdvisorOut.model_validate(await service.edit_advisor(res, advisor_id, **body.changes()))
