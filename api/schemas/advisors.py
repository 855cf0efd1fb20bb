"""Bodies of the advisor's desk: their status change and what the desk shows."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from api.schemas.tickets import TicketResponse
from domain.states import AdvisorStatus


class StatusChange(BaseModel):
    status: AdvisorStatus = Field(description="AVAILABLE, BREAK or OFFLINE (BUSY is the system's)")

    @field_validator("status")
    @classmethod
    def _not_busy(cls, value: AdvisorStatus) -> AdvisorStatus:
        if value is AdvisorStatus.BUSY:
            raise ValueError(
                "BUSY lo fija el sistema al tomar un turno; use AVAILABLE, BREAK u OFFLINE"
            )
        return value


class AfterTicket(StrEnum):
    """What an advisor may take once the ticket in hand is finished."""

    BREAK = "BREAK"
    OFFLINE = "OFFLINE"


class AfterTicketChange(BaseModel):
    status: AfterTicket = Field(
        description="BREAK or OFFLINE once the ticket in hand is finished (at once if none)"
    )


class QueueWaitingOut(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    queue: str
    waiting: int
    served_by_me: bool


class RecallableOut(BaseModel):
    """The advisor's latest no-show that can still be called back (once, the same day)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    reference: uuid.UUID
    number: str
    queue: str
    no_show_at: datetime


class DeskView(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    advisor_id: int
    name: str
    desk: int
    branch_office: str
    queues: list[str]
    status: AdvisorStatus
    pending_status: AfterTicket | None = Field(
        default=None, description="taken instead of the next call when the ticket in hand ends"
    )
    ticket: TicketResponse | None
    waiting: list[QueueWaitingOut] = Field(default_factory=list)
    recallable: RecallableOut | None = None
    message: str | None = None
