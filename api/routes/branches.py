"""Registering branches and their kiosks (supervisors and operators).

A customer taking a ticket names an existing branch; only staff create one. A kiosk
authenticates as a device with a token bound to its branch (`X-Kiosk-Token` on
`POST /api/tickets`), which gives it its own, larger creation rate limit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from api.auth.deps import Principal, require_roles
from api.auth.scope import BranchAdminDep as BranchScopedAdminDep
from api.deps import ResourcesDep
from api.error_docs import errors
from api.errors import ApiError
from api.pagination import PageDep
from api.schemas.branches import BranchCreate, BranchCreated, KioskCreate, KioskIssued, KioskOut
from api.services import branches as service

router = APIRouter(tags=["branches"])

BranchAdminDep = Annotated[Principal, Depends(require_roles("supervisor", "operator"))]
KioskId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.post("/api/branches", status_code=201, response_model=BranchCreated, responses=errors(409))
async def create_branch(
    body: BranchCreate, who: BranchAdminDep, res: ResourcesDep, response: Response
) -> BranchCreated:
    """Register a branch with the default queues; 409 when the name exists. Operators and
    supervisors of every branch only: one limited to some branches cannot add others."""
    if who.branches is not None:
        raise ApiError(403, "scope.register_branch")
    created = await service.create_branch(res, body)
    response.headers["Location"] = f"/api/branches/{created.name}"
    return BranchCreated(id=created.id, name=created.name, time_zone=created.time_zone)


@router.post("/api/branches/{branch}/kiosks", status_code=201, response_model=KioskIssued)
async def issue_kiosk(
    branch: str, body: KioskCreate, who: BranchScopedAdminDep, res: ResourcesDep, response: Response
) -> KioskIssued:
    """A token for one kiosk of the branch (shown once; stored hashed)."""
    kiosk, token = await service.issue_kiosk(res, branch, body.label, who.username)
    response.headers["Location"] = f"/api/branches/{kiosk.branch_office}/kiosks/{kiosk.id}"
    return KioskIssued(**KioskOut.model_validate(kiosk).model_dump(), token=token)


@router.get("/api/branches/{branch}/kiosks", response_model=list[KioskOut])
async def list_kiosks(
    branch: str, who: BranchScopedAdminDep, res: ResourcesDep, page: PageDep
) -> list[KioskOut]:
    """The branch's kiosks, revoked ones included (never their tokens)."""
    total, kiosks = await service.list_kiosks(res, branch, page.limit, page.offset)
    page.describe(total)
    return [KioskOut.model_validate(k) for k in kiosks]


@router.delete("/api/branches/{branch}/kiosks/{kiosk_id}", status_code=204)
async def revoke_kiosk(
    branch: str, kiosk_id: KioskId, who: BranchScopedAdminDep, res: ResourcesDep
) -> Response:
    """Revoke the kiosk's token at once (it then gets 401)."""
    await service.revoke_kiosk(res, branch, kiosk_id)
    return Response(status_code=204)
