"""Staff security: failed-login counters, the staff audit trail, supervisors' branches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import TS, created_now


class LoginThrottle(SQLModel, table=True):
    """Failures per attempted username, keyed by an HMAC so typed names are not stored."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("ix_login_throttle_last_failure", "last_failure_at"),)

    key: str = Field(max_length=64, primary_key=True)
    failures: int
    last_failure_at: datetime = Field(sa_type=TS)
    locked_until: datetime | None = Field(default=None, sa_type=TS)


class AuthEvent(SQLModel, table=True):
    """A failed login, a lockout or a throttled address, with name and address masked."""

    __tablename__ = "auth_event"
    __table_args__ = (
        Index("ix_auth_event_at", "at"),
        Index("ix_auth_event_user", "user_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())
    event: str = Field(max_length=32)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    username_masked: str = Field(max_length=16)
    client_address: str = Field(max_length=64)
    details: dict[str, Any] | None = Field(default=None, sa_type=JSONB)


class AppUserBranch(SQLModel, table=True):
    """A branch a supervisor watches; a supervisor with none watches every branch."""

    __tablename__ = "app_user_branch"
    __table_args__ = (Index("ix_app_user_branch_branch", "branch_id"),)

    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE", primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", ondelete="CASCADE", primary_key=True)
