"""Bodies of the advisor's desk: their status change and what the desk shows."""

from __future__ import annotations

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


class DeskView(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    advisor_id: int
    name: str
    desk: int
    queues: list[str]
    status: AdvisorStatus
    ticket: TicketResponse | None
    message: str | None = None
