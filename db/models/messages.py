"""Customer notifications and the cluster-wide counters of their delivery."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models.columns import TS, created_now, server_default


class Mensaje(SQLModel, table=True):
    """One customer notification and its delivery state (name kept from the runbook)."""

    __tablename__ = "mensaje"
    __table_args__ = (
        UniqueConstraint("ticket_reference", "type", name="ux_mensaje_ticket_type"),
        Index("ix_mensaje_state", "state", "created_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    ticket_reference: uuid.UUID = Field(foreign_key="ticket.reference", ondelete="CASCADE")
    type: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    chat_id: int = Field(sa_type=BigInteger)
    state: str = Field(max_length=16)
    text: str = Field(sa_type=Text)
    parse_mode: str = Field(max_length=16)
    attempts: int = Field(default=0, sa_column_kwargs=server_default("0"))
    scheduled_at: datetime = Field(sa_type=TS)
    sent_at: datetime | None = Field(default=None, sa_type=TS)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = Field(default=None, sa_type=Text)
    #: The SENDING claim: which bridge sends which attempt, until when (its lease).
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_attempt: int | None = Field(default=None)
    claim_expires_at: datetime | None = Field(default=None, sa_type=TS)
    created_at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())


class MetricCounter(SQLModel, table=True):
    """Cluster-wide monotonic counters (Telegram outcomes) that every API replica can export."""

    __tablename__ = "metric_counter"

    name: str = Field(primary_key=True, max_length=80)
    label: str = Field(primary_key=True, max_length=80)
    value: float = Field(default=0.0, sa_column_kwargs=server_default("0"))
