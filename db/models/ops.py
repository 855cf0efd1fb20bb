"""Operations: the reports of ops runs and the application's maintenance switch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Text, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import TS, created_now, server_default


class OpsRun(SQLModel, table=True):
    """The outcome and report of one ops workflow run (backup, restore, deploy, ...)."""

    __tablename__ = "ops_run"
    __table_args__ = (Index("ix_ops_run_kind_finished", "kind", "finished_at"),)

    workflow_id: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=32)
    outcome: str = Field(max_length=16)
    summary: str = Field(sa_type=Text)
    report: dict[str, Any] = Field(sa_type=JSONB)
    started_at: datetime = Field(sa_type=TS)
    finished_at: datetime = Field(sa_type=TS)


class AppState(SQLModel, table=True):
    """One row (id 1, inserted by the migration): while `maintenance` is on, writes get 503."""

    __tablename__ = "app_state"
    __table_args__ = (CheckConstraint("id = 1", name="ck_app_state_single_row"),)

    id: int = Field(primary_key=True)
    maintenance: bool = Field(default=False, sa_column_kwargs=server_default(false()))
    maintenance_reason: str | None = Field(default=None, sa_type=Text)
    changed_at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())
