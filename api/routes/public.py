"""Public reads for the kiosk and home pages: branch names, and per queue the waiting count
and a newcomer's estimated wait. No ticket, reference, national id or name."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ResourcesDep
from api.schemas.public import BranchNamesOut, PublicBranchOut
from api.services import public as service

router = APIRouter(prefix="/api/public", tags=["public"])


@router.get("/branches", response_model=BranchNamesOut, response_model_by_alias=True)
async def branch_names(res: ResourcesDep) -> BranchNamesOut:
    """Registered branch names, alphabetical (at most 500)."""
    return BranchNamesOut(branches=await service.branch_names(res))


@router.get(
    "/branches/{branch}/queues", response_model=PublicBranchOut, response_model_by_alias=True
)
async def branch_queues(branch: str, res: ResourcesDep) -> PublicBranchOut:
    """The branch's queues: tickets waiting and the wait a customer taking a ticket now can
    expect (minutes and a likely range); 404 for an unknown branch."""
    return PublicBranchOut.of(await service.branch_queues(res, branch[:200]))
