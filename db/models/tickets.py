"""Tickets and their audit trail.

Temporal holds each ticket's durable state machine; these tables are what the
API, supervisors and operators read. Never pass these objects through Temporal.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import ACTIVE_TICKET, TS, server_default, sql


class Ticket(SQLModel, table=True):
    """One customer's place in a queue; the national id is stored only keyed-hashed and masked."""

    __tablename__ = "ticket"
    __table_args__ = (
        # A transferred ticket keeps its number: numbers are unique per branch and day.
        UniqueConstraint("branch_id", "business_day", "number", name="ux_ticket_number_per_day"),
        Index(
            "ux_ticket_one_active_per_person",
            "branch_id",
            "national_id_hash",
            unique=True,
            postgresql_where=sql(ACTIVE_TICKET),
        ),
        Index("ix_ticket_queue_order", "branch_id", "queue", "status", "arrived_at"),
        Index("ix_ticket_number", "branch_id", "number", "business_day"),
        Index("ix_ticket_advisor", "advisor_id", "business_day"),
        # The bot's /estado and /cancelar find a chat's active ticket.
        Index(
            "ix_ticket_active_chat",
            "telegram_chat_id",
            postgresql_where=sql(f"telegram_chat_id IS NOT NULL AND {ACTIVE_TICKET}"),
        ),
        # The API's adoption sweep finds rows whose workflow it has not seen started.
        Index("ix_ticket_unadopted", "created_at", postgresql_where=sql("NOT workflow_started")),
    )

    reference: uuid.UUID = Field(primary_key=True)
    branch_id: int = Field(foreign_key="branch.id")
    queue: str = Field(max_length=32)
    number: str = Field(max_length=16)
    sequence: int
    business_day: date
    status: str = Field(max_length=16)
    national_id_hash: str = Field(max_length=64)
    national_id_masked: str = Field(max_length=24)
    phone_masked: str | None = Field(default=None, max_length=24)
    telegram_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    language: str = Field(max_length=8)
    workflow_id: str = Field(max_length=80)
    recalls: int = Field(default=0, sa_column_kwargs=server_default("0"))
    arrived_at: datetime = Field(sa_type=TS)
    created_at: datetime = Field(sa_type=TS)
    updated_at: datetime = Field(sa_type=TS)
    expires_at: datetime = Field(sa_type=TS)
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")
    desk: int | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=TS)
    called_at: datetime | None = Field(default=None, sa_type=TS)
    service_started_at: datetime | None = Field(default=None, sa_type=TS)
    completed_at: datetime | None = Field(default=None, sa_type=TS)
    created_position: int | None = None
    original_queue: str | None = Field(default=None, max_length=32)
    transfers: int = Field(default=0, sa_column_kwargs=server_default("0"))
    #: The creation request's fingerprint: a retry with the same Idempotency-Key and another
    #: request is refused (NULL on rows created before it was kept).
    fingerprint: str | None = Field(default=None, max_length=64)
    #: False while the API that wrote the row has not seen its workflow started (the
    #: adoption sweep starts it); rows created inside their workflow are true.
    workflow_started: bool = Field(default=True, sa_column_kwargs=server_default(sql("true")))


class TicketEvent(SQLModel, table=True):
    """Audit trail: every transition with time, actor and reason."""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket", "ticket_reference", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    event_id: uuid.UUID = Field(unique=True)
    ticket_reference: uuid.UUID = Field(foreign_key="ticket.reference", ondelete="CASCADE")
    at: datetime = Field(sa_type=TS)
    action: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    actor: str = Field(max_length=100)
    reason: str | None = Field(default=None, sa_type=Text)
    advisor_id: int | None = None
    details: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
