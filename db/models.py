"""SQLModel tables: the database read model of branches, tickets and messages.

Temporal holds each ticket's durable state machine; these tables are what the
API, supervisors and operators read. Never pass these objects through Temporal.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Text, func
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = False, default_now: bool = False) -> Column[datetime]:
    return Column(
        DateTime(timezone=True),
        nullable=nullable,
        server_default=func.now() if default_now else None,
    )


class Branch(SQLModel, table=True):
    """A bank office; registered on first use with default settings."""

    __tablename__ = "branch"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    time_zone: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts(default_now=True))


class BranchQueue(SQLModel, table=True):
    """Per-branch settings of one queue, seeded from the domain defaults."""

    __tablename__ = "branch_queue"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    queue: str = Field(primary_key=True, max_length=32)
    prefix: str = Field(max_length=4)
    avg_service_seconds: float
    priority: int
    notify_threshold: int
    target_wait_minutes: int
    no_show_seconds: int


class TicketCounter(SQLModel, table=True):
    """Last number handed out per branch, queue and business day (row-locked on use)."""

    __tablename__ = "ticket_counter"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    queue: str = Field(primary_key=True, max_length=32)
    business_day: date = Field(primary_key=True)
    last_sequence: int


class Ticket(SQLModel, table=True):
    """One customer's place in a queue; the national id is stored only keyed-hashed and masked."""

    __tablename__ = "ticket"

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
    telegram_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    language: str = Field(max_length=8)
    workflow_id: str = Field(max_length=80)
    recalls: int = 0
    arrived_at: datetime = Field(sa_column=_ts())
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())


class TicketEvent(SQLModel, table=True):
    """Audit trail: every transition with time, actor and reason."""

    __tablename__ = "ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    event_id: uuid.UUID = Field(unique=True)
    ticket_reference: uuid.UUID = Field(foreign_key="ticket.reference")
    at: datetime = Field(sa_column=_ts())
    action: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    actor: str = Field(max_length=100)
    reason: str | None = Field(default=None, sa_column=Column(Text))


class Mensaje(SQLModel, table=True):
    """One customer notification and its delivery state (name kept from the runbook)."""

    __tablename__ = "mensaje"

    id: uuid.UUID = Field(primary_key=True)
    ticket_reference: uuid.UUID = Field(foreign_key="ticket.reference")
    type: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    state: str = Field(max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))
    parse_mode: str = Field(max_length=16)
    attempts: int = 0
    scheduled_at: datetime = Field(sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    telegram_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=_ts(default_now=True))


class MetricCounter(SQLModel, table=True):
    """Cluster-wide monotonic counters (Telegram outcomes) that every API replica can export."""

    __tablename__ = "metric_counter"

    name: str = Field(primary_key=True, max_length=80)
    label: str = Field(primary_key=True, max_length=80)
    value: float = 0.0
