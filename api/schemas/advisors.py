"""Bodies of the advisor's desk: their status change and what the desk shows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from api.schemas.tickets import TicketResponse


class StatusChange(BaseModel):
    status: Literal["AVAILABLE", "BREAK", "OFFLINE"]


class DeskView(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    advisor_id: int
    name: str
    desk: int
    queues: list[str]
    status: str
    ticket: TicketResponse | None
    message: str | None = None
