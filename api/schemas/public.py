"""Bodies of the public read endpoints the pages use (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from api.schemas.tickets import WaitRangeOut
from api.services.public import PublicBranch


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class BranchNamesOut(_Out):
    branches: list[str]


class PublicQueueOut(_Out):
    queue: str
    prefix: str
    waiting: int
    estimated_wait_minutes: int | None
    estimated_wait_range: WaitRangeOut | None
    estimated_wait_reason: str | None = None


class PublicBranchOut(_Out):
    branch_office: str
    generated_at: datetime
    queues: list[PublicQueueOut]

    @classmethod
    def of(cls, branch: PublicBranch) -> PublicBranchOut:
        return cls(
            branch_office=branch.branch_office,
            generated_at=branch.generated_at,
            queues=[
                PublicQueueOut(
                    queue=q.queue,
                    prefix=q.prefix,
                    waiting=q.waiting,
                    estimated_wait_minutes=q.estimated_wait_minutes,
                    estimated_wait_range=None
                    if q.estimated_wait_low is None or q.estimated_wait_high is None
                    else WaitRangeOut(low=q.estimated_wait_low, high=q.estimated_wait_high),
                    estimated_wait_reason=q.estimated_wait_reason,
                )
                for q in branch.queues
            ],
        )
