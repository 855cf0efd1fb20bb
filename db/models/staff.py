"""Advisors at the desks and the users who sign in (advisors, supervisors, operators)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from db.models.columns import (
    ADVISOR_PENDING_STATUS,
    ADVISOR_STATUS,
    TS,
    created_now,
    server_default,
    sql,
)


class Advisor(SQLModel, table=True):
    """One advisor: the desk, the queues served and the one ticket held, if any."""

    __tablename__ = "advisor"
    __table_args__ = (
        CheckConstraint("desk > 0", name="ck_advisor_desk_positive"),
        CheckConstraint(ADVISOR_STATUS, name="ck_advisor_status"),
        CheckConstraint(ADVISOR_PENDING_STATUS, name="ck_advisor_pending_status"),
        Index("ux_advisor_email", sql("lower(email)"), unique=True),
        Index("ux_advisor_desk", "branch_id", "desk", unique=True, postgresql_where=sql("active")),
        # No ticket is ever held by two advisors.
        Index(
            "ux_advisor_current_ticket",
            "current_ticket",
            unique=True,
            postgresql_where=sql("current_ticket IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id")
    name: str = Field(max_length=100)
    email: str = Field(max_length=200)
    desk: int
    queues: list[str] = Field(sa_type=ARRAY(String(32)))
    status: str = Field(
        default="OFFLINE", max_length=16, sa_column_kwargs=server_default("OFFLINE")
    )
    status_since: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())
    # The one ticket this advisor holds (reserved, called or in service).
    current_ticket: uuid.UUID | None = None
    # BREAK or OFFLINE, taken instead of the next call once the ticket in hand is finished.
    pending_status: str | None = Field(default=None, max_length=16)
    idle_since: datetime | None = Field(default=None, sa_type=TS)
    active: bool = Field(default=True, sa_column_kwargs=server_default(true()))
    created_at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())


class AppUser(SQLModel, table=True):
    """A login: an advisor's own account, or a supervisor's or an operator's."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("role IN ('advisor','supervisor','operator')", name="ck_user_role"),
        Index("ux_app_user_username", sql("lower(username)"), unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id", unique=True)
    active: bool = Field(default=True, sa_column_kwargs=server_default(true()))
    created_at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())
