"""Registering branches and their kiosks (supervisors and operators).

A customer taking a ticket names an existing branch; only staff create one. A kiosk
authenticates as a device with a token bound to its branch (`X-Kiosk-Token` on
`POST /api/tickets`), which gives it its own, larger creation rate limit.
"""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Path, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from api.auth.deps import Principal, require_roles
from api.auth.scope import BranchAdminDep as BranchScopedAdminDep
from api.deps import ResourcesDep
from api.errors import ApiError
from api.pagination import PageDep
from api.services import branches as service
from domain.text import clean_text

router = APIRouter(tags=["branches"])

BranchAdminDep = Annotated[Principal, Depends(require_roles("supervisor", "operator"))]
KioskId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _name(value: str) -> str:
    return clean_text(value, max_length=100)


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("must be a local time without a zone (HH:MM)")
    return value


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


BranchName = Annotated[str, AfterValidator(_name)]
Label = Annotated[str, AfterValidator(_name)]
LocalTime = Annotated[time, AfterValidator(_naive)]


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class BranchCreate(_Camel):
    name: BranchName = Field(description="1 to 100 characters; unique, case-insensitive")
    time_zone: str = Field(description="IANA time zone, e.g. America/Santiago")
    opens_at: LocalTime | None = None
    closes_at: LocalTime | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value.strip() not in _zones():
            raise ValueError("must be an IANA time zone, e.g. America/Santiago")
        return value.strip()

    @model_validator(mode="after")
    def _hours(self) -> BranchCreate:
        # unset hours take the column defaults (migration 0002): 09:00 and 14:00
        opens, closes = self.opens_at or time(9, 0), self.closes_at or time(14, 0)
        if opens >= closes:
            raise ApiError(422, "must be after opensAt", field="closesAt")
        return self


class BranchCreated(_Camel):
    id: int
    name: str
    time_zone: str


class KioskCreate(_Camel):
    label: Label = Field(description="where the kiosk stands, 1 to 100 characters")


class KioskOut(_Camel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    branch_office: str
    label: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class KioskIssued(KioskOut):
    token: str = Field(description="send it as X-Kiosk-Token; shown only now")


@router.post("/api/branches", status_code=201, response_model=BranchCreated)
async def create_branch(
    body: BranchCreate, who: BranchAdminDep, res: ResourcesDep, response: Response
) -> BranchCreated:
    """Register a branch with the default queues; 409 when the name exists. Operators and
    supervisors of every branch only: one limited to some branches cannot add others."""
    if who.branches is not None:
        raise ApiError(403, "only operators and supervisors of every branch register branches")
    created = await service.create_branch(
        res, body.name, body.time_zone, body.opens_at, body.closes_at
    )
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
