"""Branches, their queues' settings, the per-day ticket number counters and kiosks."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from db.models.columns import TS, created_now, server_default, sql


class Branch(SQLModel, table=True):
    """A bank office, registered by staff (`POST /api/branches`) with default queues."""

    __tablename__ = "branch"
    __table_args__ = (Index("ux_branch_name", sql("lower(name)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    time_zone: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())
    opens_at: time = Field(sa_column_kwargs=server_default(sql("'09:00'")))
    closes_at: time = Field(sa_column_kwargs=server_default(sql("'14:00'")))


class BranchQueue(SQLModel, table=True):
    """Per-branch settings of one queue, seeded from the domain defaults."""

    __tablename__ = "branch_queue"

    branch_id: int = Field(foreign_key="branch.id", ondelete="CASCADE", primary_key=True)
    queue: str = Field(primary_key=True, max_length=32)
    prefix: str = Field(max_length=4)
    avg_service_seconds: float
    priority: int
    notify_threshold: int
    target_wait_minutes: int
    no_show_seconds: int
    service_samples: int = Field(default=0, sa_column_kwargs=server_default("0"))


class TicketCounter(SQLModel, table=True):
    """Last number handed out per branch, queue and business day (row-locked on use)."""

    __tablename__ = "ticket_counter"

    branch_id: int = Field(foreign_key="branch.id", ondelete="CASCADE", primary_key=True)
    queue: str = Field(primary_key=True, max_length=32)
    business_day: date = Field(primary_key=True)
    last_sequence: int


class Kiosk(SQLModel, table=True):
    """A kiosk device of a branch: its token is stored only as a SHA-256 hash."""

    __tablename__ = "kiosk"
    __table_args__ = (
        Index("ux_kiosk_token_hash", "token_hash", unique=True),
        Index("ix_kiosk_branch", "branch_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", ondelete="CASCADE")
    label: str = Field(max_length=100)
    token_hash: str = Field(max_length=64)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())
    revoked_at: datetime | None = Field(default=None, sa_type=TS)
