"""Names and payloads of the operations workflows and activities, defined once.

Shared by the workflows, their activities, the ops worker, the operator CLI and the
operator API. Workflows call activities by the names here, so a workflow module never
imports an activity module (and its database or subprocess code). Payloads carry paths
and figures, never file contents: a dump can exceed Temporal's 2 MB payload limit.
Kept free of I/O imports: workflow modules import it.

Long on purpose: every ops name and payload in one module is the point ("defined once").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from settings import Settings

# -- workflows, task queue, schedules ---------------------------------------------------

#: Operations run on their own task queue, so a long dump never delays a ticket.
OPS_TASK_QUEUE_SUFFIX = "-ops"

BACKUP_WORKFLOW = "BackupWorkflow"
RESTORE_WORKFLOW = "RestoreWorkflow"
MAINTENANCE_WORKFLOW = "MaintenanceWorkflow"
DEPLOY_WORKFLOW = "DeployWorkflow"
ROLLBACK_WORKFLOW = "RollbackWorkflow"
#: Holds the one fixed id of the exclusive operations while one of them runs (its child).
EXCLUSIVE_WORKFLOW = "ExclusiveOperation"
#: Deploy, rollback and restore change what runs or the data: started under this one id
#: (id conflict policy FAIL), so a second start fails atomically while one runs.
EXCLUSIVE_ID = "ops-exclusive"
EXCLUSIVE_WORKFLOWS = (DEPLOY_WORKFLOW, ROLLBACK_WORKFLOW, RESTORE_WORKFLOW)

#: Schedule ids registered (created or updated) when the worker starts.
SCHEDULE_BACKUP = "ticketero-backup-daily"
SCHEDULE_DAILY = "ticketero-maintenance-daily"
SCHEDULE_WEEKLY = "ticketero-maintenance-weekly"
SCHEDULE_MONTHLY = "ticketero-maintenance-monthly"

#: The query of the deploy and rollback workflows answering `Progress`.
PROGRESS_QUERY = "progress"


def ops_task_queue(settings: Settings) -> str:
    """`<temporal_task_queue>-ops`: where the ops worker polls and operations start."""
    return settings.temporal_task_queue + OPS_TASK_QUEUE_SUFFIX


def ops_workflow_id(kind: str, at: datetime) -> str:
    """`<kind>-<UTC timestamp>`, e.g. `deploy-20261128T093000Z`."""
    return f"{kind}-{at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


# -- activity names ---------------------------------------------------------------------

BACKUP_DUMP = "ops.backup.dump"
BACKUP_VERIFY = "ops.backup.verify"
BACKUP_RETENTION = "ops.backup.retention"
RESTORE_PICK = "ops.restore.pick"
RESTORE_APPLY = "ops.restore.apply"
RESTORE_INTEGRITY = "ops.restore.integrity"
RESTORE_RECONCILE = "ops.restore.reconcile"
MAINTENANCE_ENTER = "ops.maintenance_mode.enter"
MAINTENANCE_LEAVE = "ops.maintenance_mode.leave"
REPORT_STORE = "ops.report.store"
REPORT_NOTIFY = "ops.report.notify"

CHECK_HEALTH = "ops.check.health"
CHECK_DISK = "ops.check.disk"
CHECK_ERROR_LOGS = "ops.check.error_logs"
CLEAN_OLD_LOGS = "ops.logs.cleanup"
DB_ANALYZE = "ops.db.analyze"
DB_REINDEX = "ops.db.reindex"
DB_PURGE_MESSAGES = "ops.db.purge_messages"
DB_SIZE = "ops.db.size"
DB_VACUUM_FULL = "ops.db.vacuum_full"
ROTATE_LOGS = "ops.logs.rotate"
PULL_IMAGES = "ops.images.pull"
CHECK_TLS = "ops.check.tls_expiry"

PREPARE = "deploy.prepare"
PULL_IMAGE = "deploy.pull_image"
ROLLING_UPDATE = "deploy.rolling_update"
WAIT_FOR_HEALTH = "deploy.wait_for_health"
SMOKE_TEST = "deploy.smoke_test"
STORE_REPORT = "deploy.store_report"

# -- error types the activities raise (the workflows' retry policies name them) --------

BACKUP_REFUSED = "BackupRefused"
BACKUP_CORRUPT = "BackupCorrupt"
ALERT_REFUSED = "AlertRefused"
#: A failed backup run (raised by BackupWorkflow after its report is stored).
BACKUP_FAILED = "BackupFailed"
#: db.ops.OpsBusy: another dump or restore held the lock too long (retryable).
OPS_BUSY = "OpsBusy"
TOOL_FAILED = "ToolFailed"

ERR_IMAGE_NOT_FOUND = "ImageNotFound"
ERR_PLATFORM = "PlatformUnavailable"
ERR_HEALTH_TIMEOUT = "HealthTimeout"
ERR_SMOKE_FAILED = "SmokeTestFailed"
ERR_NO_VERSION = "NoVersionToRollBackTo"

# -- reports ----------------------------------------------------------------------------


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


# -- workflow inputs --------------------------------------------------------------------


class ExclusiveRequest(BaseModel):
    """What the ExclusiveOperation workflow (id EXCLUSIVE_ID) runs as its child."""

    workflow: str
    workflow_id: str
    request: dict[str, Any]


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


# -- backup files and their activities' payloads ----------------------------------------

Variant = Literal["full", "clean", "data_only"]

#: `data_` marks a data-only dump (restored into the existing schema); `safety_` the
#: backup a restore takes of the database it is about to replace.
DATA_PREFIX = "data_"
SAFETY_PREFIX = "safety_"
#: Every name a backup (and only a backup) may have; retention deletes nothing else.
BACKUP_NAME = re.compile(
    r"^(?P<prefix>data_|safety_)?ticketero_backup_(?P<stamp>\d{8}_\d{6})\.sql\.gz$"
)
CHECKSUM_SUFFIX = ".sha256"
PARTIAL_SUFFIX = ".partial"


def backup_file_name(stamp: str, variant: Variant, *, safety: bool = False) -> str:
    """`[data_|safety_]ticketero_backup_YYYYMMDD_HHMMSS.sql.gz` for a stamp from workflow.now()."""
    prefix = SAFETY_PREFIX if safety else DATA_PREFIX if variant == "data_only" else ""
    return f"{prefix}ticketero_backup_{stamp}.sql.gz"


class DumpJob(BaseModel):
    """What to dump and where: the name is fixed by the workflow, so a retry reuses it."""

    file_name: str
    variant: Variant = "full"


class ArchiveRef(BaseModel):
    file_name: str


class PickRequest(BaseModel):
    backup: str | None = None


class PickedBackup(BaseModel):
    """A backup whose checksum and gzip stream were verified, ready to restore."""

    file_name: str
    data_only: bool
    sha256: str
    size_bytes: int


class RestoreJob(BaseModel):
    file_name: str
    data_only: bool
    reason: str


class ReconcileJob(BaseModel):
    """Bring the restored read model in line with the ticket workflows that may have moved
    on since `file_name` was dumped (its name carries the dump's UTC time)."""

    file_name: str


class MaintenanceSwitch(BaseModel):
    reason: str


class LogRotation(BaseModel):
    """Month tag (YYYYMM) for rotated log names, taken from workflow.now()."""

    month: str


# -- deploy and rollback: step names and activity payloads ------------------------------

STEP_BACKUP = "backup"
STEP_PULL = "pull image"
STEP_UPDATE = "rolling update"
STEP_HEALTH = "wait for health"
STEP_SMOKE = "smoke test"
STEP_ROLLBACK = "rollback"
STEP_HEALTH_AFTER_ROLLBACK = "wait for health after rollback"


class PlanRequest(BaseModel):
    kind: Literal["deploy", "rollback"]
    version: str | None = None


class DeployPlan(BaseModel):
    """Settings and recorded versions read once at the start, so history shows them.

    The smoke test targets the API behind `health_url` (its root), so both checks
    hit the same API, e.g. `http://lb:8080` from the worker's container.
    """

    target: str | None
    current: str | None
    previous: str | None
    image: str
    service: str
    engine: str
    health_url: str
    health_timeout_seconds: float
    smoke_base_url: str


class VersionPair(BaseModel):
    current: str | None
    previous: str | None


class Rollout(BaseModel):
    """Roll the service onto `version`; with `restore`, put the version record back to it."""

    version: str
    restore: VersionPair | None = None


class HealthWait(BaseModel):
    """Poll `url` until UP; the deadline is absolute so a retried attempt keeps it."""

    url: str
    deadline: datetime
    timeout_seconds: float


class SmokeCheck(BaseModel):
    """`key` is the Idempotency-Key: a retried attempt gets the same smoke ticket."""

    base_url: str
    key: str


class StepResult(BaseModel):
    outcome: Literal["ok", "skipped"] = "ok"
    detail: str = ""
    figures: dict[str, Any] = Field(default_factory=dict)


class Progress(BaseModel):
    """The `progress` query of the deploy and rollback workflows: steps so far, the running one."""

    running: str | None
    steps: list[Step]
