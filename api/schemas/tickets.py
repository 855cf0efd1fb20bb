"""Bodies of the ticket endpoints: take, look up, follow, move a ticket (camelCase on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic.alias_generators import to_camel

from api.text_fields import free_text
from domain.contracts import TicketView
from domain.estimate import NO_ADVISORS
from domain.national_id import NationalId, normalize_phone, parse_national_id
from domain.queues import QueueName, parse_queue
from domain.states import TicketStatus
from domain.text import clean_text


class CreateTicketRequest(BaseModel):
    """The runbook body (`queue`) and the Spring one (`queueType`) are both accepted."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    # Parsed into a NationalId, but on the wire (and in the document) it is a string.
    national_id: Annotated[
        NationalId,
        WithJsonSchema({"type": "string", "examples": ["12345678-5"]}),
    ] = Field(
        validation_alias=AliasChoices("nationalId", "national_id"),
        description="8-12 digits or a Chilean RUT with a valid check digit",
    )
    branch_office: str = Field(
        min_length=1, max_length=100, validation_alias=AliasChoices("branchOffice", "branch_office")
    )
    queue: QueueName = Field(validation_alias=AliasChoices("queue", "queueType", "queue_type"))
    phone: str | None = None
    telegram_chat_id: int | None = Field(
        default=None,
        validation_alias=AliasChoices("telegramChatId", "telegram_chat_id"),
        ge=-(2**63),
        lt=2**63,
    )
    language: Literal["es", "en"] = "es"

    @field_validator("national_id", mode="before")
    @classmethod
    def _national_id(cls, value: object) -> NationalId:
        if not isinstance(value, str):
            raise ValueError("must be a string of 8 to 12 digits or a RUT")
        return parse_national_id(value)

    @field_validator("queue", mode="before")
    @classmethod
    def _queue(cls, value: object) -> QueueName:
        if not isinstance(value, str):
            raise ValueError("must be one of " + ", ".join(q.value for q in QueueName))
        return parse_queue(value)

    @field_validator("branch_office")
    @classmethod
    def _branch(cls, value: str) -> str:
        return clean_text(value, max_length=100)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else normalize_phone(value)


def wait_reason(position: int | None, wait: object | None) -> str | None:
    """Why a waiting ticket (or a newcomer) is told no time: nobody serves the queue."""
    return NO_ADVISORS if position is not None and wait is None else None


class WaitRangeOut(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)
    low: int
    high: int


class TicketResponse(BaseModel):
    """A ticket as its customer sees it; the national id is never echoed."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    reference: uuid.UUID
    number: str
    queue: str
    branch_office: str
    status: TicketStatus
    position: int | None
    tickets_ahead: int | None
    estimated_wait_minutes: int | None
    estimated_wait_range: WaitRangeOut | None
    estimated_wait_reason: str | None = Field(
        default=None,
        description=f"{NO_ADVISORS}: waiting, but nobody serves the queue now, so no time",
    )
    created_at: datetime
    expires_at: datetime
    desk: int | None = None
    telegram_link: str | None = None
    qr_code_url: str | None = None

    @classmethod
    def of(cls, view: TicketView, link: str | None = None) -> TicketResponse:
        wait = view.estimated_wait
        return cls(
            reference=view.reference,
            number=view.number,
            queue=view.queue,
            branch_office=view.branch_office,
            status=view.status,
            position=view.position,
            tickets_ahead=view.tickets_ahead,
            estimated_wait_minutes=wait.minutes if wait else None,
            estimated_wait_range=WaitRangeOut(low=wait.low, high=wait.high) if wait else None,
            estimated_wait_reason=wait_reason(view.position, wait),
            created_at=view.created_at,
            expires_at=view.expires_at,
            desk=view.desk,
            telegram_link=link,
            qr_code_url=f"/api/tickets/{view.reference}/qr.png" if link else None,
        )


class PositionResponse(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    number: str
    branch_office: str
    queue: str
    status: TicketStatus
    position: int | None
    tickets_ahead: int | None
    estimated_wait_minutes: int | None
    estimated_wait_range: WaitRangeOut | None
    estimated_wait_reason: str | None = None

    @classmethod
    def of(cls, view: TicketView) -> PositionResponse:
        full = TicketResponse.of(view)
        return cls(
            number=view.number,
            branch_office=view.branch_office,
            queue=view.queue,
            status=view.status,
            position=view.position,
            tickets_ahead=view.tickets_ahead,
            estimated_wait_minutes=full.estimated_wait_minutes,
            estimated_wait_range=full.estimated_wait_range,
            estimated_wait_reason=full.estimated_wait_reason,
        )


#: A cancel or transfer reason: free text under the rule of `domain.text`.
ReasonText = Annotated[str, Field(max_length=500), free_text(500, min_length=0)]


class Reason(BaseModel):
    reason: ReasonText | None = None


class TransferRequest(BaseModel):
    queue: QueueName
    reason: ReasonText | None = None
