"""Inputs, results and names of the operations workflows (backup, restore, maintenance,
deploy, rollback), shared by the worker, the operator CLI and the operator API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

#: Operations run on their own task queue, so a long dump never delays a ticket.
OPS_TASK_QUEUE_SUFFIX = "-ops"

BACKUP_WORKFLOW = "BackupWorkflow"
RESTORE_WORKFLOW = "RestoreWorkflow"
MAINTENANCE_WORKFLOW = "MaintenanceWorkflow"
DEPLOY_WORKFLOW = "DeployWorkflow"
ROLLBACK_WORKFLOW = "RollbackWorkflow"

#: Schedule ids registered (created or updated) when the worker starts.
SCHEDULE_BACKUP = "ticketero-backup-daily"
SCHEDULE_DAILY = "ticketero-maintenance-daily"
SCHEDULE_WEEKLY = "ticketero-maintenance-weekly"
SCHEDULE_MONTHLY = "ticketero-maintenance-monthly"


class Step(BaseModel):
    """One step of an operation, as the report shows it."""

    name: str
    outcome: Literal["ok", "alert", "skipped", "failed", "compensated"]
    detail: str = ""
    figures: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class OpsReport(BaseModel):
    """What every operations workflow returns and stores (table `ops_run`)."""

    kind: str
    workflow_id: str
    outcome: Literal["ok", "alert", "failed", "rolled_back"]
    summary: str
    steps: list[Step] = Field(default_factory=list)
    started_at: datetime
    finished_at: datetime


class BackupRequest(BaseModel):
    variant: Literal["full", "clean", "data_only"] = "full"
    reason: str = "scheduled"


class RestoreRequest(BaseModel):
    # A file name in the backup folder (never a path); None = the latest.
    backup: str | None = Field(
        default=None, pattern=r"^(data_|safety_)?ticketero_backup_\d{8}_\d{6}\.sql\.gz$"
    )
    reason: str = "operator"


class MaintenanceRequest(BaseModel):
    routine: Literal["daily", "weekly", "monthly"]


class DeployRequest(BaseModel):
    version: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")


class RollbackRequest(BaseModel):
    version: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
