"""Activity names and payloads of the operations workflows.

Workflows call activities by these names, so a workflow module never imports an
activity module (and its database or subprocess code). Payloads carry paths and
figures, never file contents: a dump can exceed Temporal's 2 MB payload limit.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

# -- activity names ---------------------------------------------------------------------

BACKUP_DUMP = "ops.backup.dump"
BACKUP_VERIFY = "ops.backup.verify"
BACKUP_RETENTION = "ops.backup.retention"
RESTORE_PICK = "ops.restore.pick"
RESTORE_APPLY = "ops.restore.apply"
RESTORE_INTEGRITY = "ops.restore.integrity"
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

# -- backup files -----------------------------------------------------------------------

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


class MaintenanceSwitch(BaseModel):
    reason: str


class LogRotation(BaseModel):
    """Month tag (YYYYMM) for rotated log names, taken from workflow.now()."""

    month: str
