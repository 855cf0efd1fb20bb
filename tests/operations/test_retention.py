"""Retention deletes old backups and their checksums, and nothing else."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.testing import ActivityEnvironment

from ops.activities.backup import BackupActivities
from settings import Settings

DAY = 86400


def _touch(folder: Path, name: str, age_days: float) -> None:
    path = folder / name
    path.write_text("x")
    stamp = time.time() - age_days * DAY
    os.utime(path, (stamp, stamp))


def _settings(folder: Path) -> Settings:
    return Settings(
        _env_file=None,
        backup_dir=folder,
        backup_retention_days=30,
    )


async def test_retention_deletes_only_old_backup_files(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [
        "ticketero_backup_20240101_023000.sql.gz",
        "ticketero_backup_20240101_023000.sql.gz.sha256",
        "data_ticketero_backup_20240102_023000.sql.gz",
        "data_ticketero_backup_20240102_023000.sql.gz.sha256",
        "safety_ticketero_backup_20240103_023000.sql.gz",
        "ticketero_backup_20240104_023000.sql.gz.sha256",  # checksum whose archive is gone
    ]
    keep_recent = [
        "ticketero_backup_20991231_023000.sql.gz",
        "ticketero_backup_20991231_023000.sql.gz.sha256",
    ]
    keep_other = [  # old, but not backups: never touched
        "notes.txt",
        "ticketero_backup_latest.sql.gz",
        "ticketero_backup_20240105_023000.sql",
        "ticketero_backup_20240106_023000.sql.gz.partial",
        "other_ticketero_backup_20240107_023000.sql.gz",
        "ticketero_backup_20240108_023000.sql.gz.bak",
    ]
    for name in old + keep_other:
        _touch(folder, name, 45)
    for name in keep_recent:
        _touch(folder, name, 1)
    _touch(folder, "ticketero_backup_20240109_023000.sql.gz", 29)  # within retention
    (folder / "subdir").mkdir()
    _touch(folder / "subdir", "ticketero_backup_20240101_000000.sql.gz", 45)

    engine = create_async_engine("postgresql+asyncpg://unused@127.0.0.1/unused")
    acts = BackupActivities(engine, _settings(folder))
    result = await ActivityEnvironment().run(acts.retention)

    assert sorted(result.figures["deleted"]) == sorted(old)
    remaining = sorted(p.name for p in folder.iterdir())
    expected = [*keep_recent, *keep_other, "ticketero_backup_20240109_023000.sql.gz", "subdir"]
    assert remaining == sorted(expected)
    assert (folder / "subdir" / "ticketero_backup_20240101_000000.sql.gz").exists()
    await engine.dispose()


async def test_retention_never_deletes_the_newest_backup(tmp_path: Path) -> None:
    """Backups that stopped a while ago still leave the last one in place."""
    folder = tmp_path / "backups"
    folder.mkdir()
    for name in (
        "ticketero_backup_20240101_023000.sql.gz",
        "ticketero_backup_20240201_023000.sql.gz",
        "ticketero_backup_20240201_023000.sql.gz.sha256",
    ):
        _touch(folder, name, 90)
    engine = create_async_engine("postgresql+asyncpg://unused@127.0.0.1/unused")
    result = await ActivityEnvironment().run(BackupActivities(engine, _settings(folder)).retention)
    assert result.figures["deleted"] == ["ticketero_backup_20240101_023000.sql.gz"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "ticketero_backup_20240201_023000.sql.gz",
        "ticketero_backup_20240201_023000.sql.gz.sha256",
    ]
    await engine.dispose()
