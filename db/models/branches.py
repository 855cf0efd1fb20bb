"""Branches, their opening hours and holidays, their queues' settings, the per-day ticket
number counters and kiosks."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Index, SmallInteger
from sqlmodel import Field, SQLModel

from db.models.columns import TS, created_now, server_default, sql


class Branch(SQLModel, table=True):
    """A bank office, registered by staff (`POST /api/branches`) with default queues."""

    __tablename__ = "branch"
    __table_args__ = (
        Index("ux_branch_name", sql("lower(name)"), unique=True),
        CheckConstraint("early_minutes BETWEEN 0 AND 720", name="ck_branch_early_minutes"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    time_zone: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())
    opens_at: time = Field(sa_column_kwargs=server_default(sql("'09:00'")))
    closes_at: time = Field(sa_column_kwargs=server_default(sql("'14:00'")))
    #: Takes tickets at any time, hours and holidays aside (the runbook's branches).
    open_all_hours: bool = Field(default=False, sa_column_kwargs=server_default(sql("false")))
    #: Takes tickets this many minutes before it opens.
    early_minutes: int = Field(default=0, sa_column_kwargs=server_default("0"))


class BranchHours(SQLModel, table=True):
    """A weekday's opening hours (0 = Monday), local time; `closes` 00:00 is midnight.
    A weekday without a row is closed (see domain/hours.py)."""

    __tablename__ = "branch_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_branch_hours_weekday"),
        CheckConstraint("closes = '00:00' OR closes > opens", name="ck_branch_hours_order"),
    )

    branch_id: int = Field(foreign_key="branch.id", ondelete="CASCADE", primary_key=True)
    weekday: int = Field(primary_key=True, sa_type=SmallInteger)
    opens: time
    closes: time


class BranchHoliday(SQLModel, table=True):
    """A local calendar day the branch stays closed."""

    __tablename__ = "branch_holiday"

    branch_id: int = Field(foreign_key="branch.id", ondelete="CASCADE", primary_key=True)
    day: date = Field(primary_key=True)
    name: str = Field(max_length=100)


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
