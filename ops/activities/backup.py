"""Backup activities: pg_dump | gzip into the backup folder, verify, prune.

Only the application database (settings.database_url) is dumped, never Temporal's.
Every activity is idempotent: the archive name comes from the workflow, and a dump
whose archive and checksum exist returns at once. Dumps and restores hold one
advisory lock (db.ops.ops_lock), so they never overlap.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from ops.activities.archives import (
    BackupFolder,
    archive_stamp,
    fsync_path,
    read_checksum,
    sha256_of,
    write_atomic,
)
from ops.activities.heartbeat import heartbeating
from ops.activities.pg_tools import pg_target, run_pipeline
from ops.contracts import (
    BACKUP_DUMP,
    BACKUP_NAME,
    BACKUP_RETENTION,
    BACKUP_VERIFY,
    CHECKSUM_SUFFIX,
    PARTIAL_SUFFIX,
    TOOL_FAILED,
    ArchiveRef,
    DumpJob,
    Step,
)


def _now() -> datetime:
    return datetime.now(UTC)


class BackupActivities(BackupFolder):
    """dump, verify and retention of the BackupWorkflow (and a restore's safety backup)."""

    @activity.defn(name=BACKUP_DUMP)
    async def dump(self, job: DumpJob) -> Step:
        """pg_dump | gzip into `<name>.partial`, checksum, then rename: the final name only
        ever holds a complete archive, and a retry finds it and stops."""
        started = _now()
        final = self._archive(job.file_name)
        checksum = self._checksum_of(final)
        partial = final.with_name(final.name + PARTIAL_SUFFIX)
        await asyncio.to_thread(self._dir.mkdir, parents=True, exist_ok=True)
        async with self._lock(f"dump {final.name}"):
            if final.is_file():
                partial.unlink(missing_ok=True)
                digest = await asyncio.to_thread(read_checksum, checksum)
                if digest is None:
                    digest = await heartbeating(asyncio.to_thread(sha256_of, final))
                    await asyncio.to_thread(write_atomic, checksum, f"{digest}  {final.name}\n")
                return Step(
                    name="dump",
                    outcome="ok",
                    detail=f"{final.name} already written (resumed)",
                    figures={
                        "file": final.name,
                        "bytes": final.stat().st_size,
                        "sha256": digest,
                        "reused": True,
                    },
                    started_at=started,
                    finished_at=_now(),
                )
            partial.unlink(missing_ok=True)  # left by a killed attempt
            target = pg_target(self._settings.database_url, "ticketero-backup")
            flags = ["--no-owner", "--no-privileges"]
            if job.variant == "clean":
                flags += ["--clean", "--if-exists"]
            elif job.variant == "data_only":
                flags += ["--data-only"]
            try:
                result = await run_pipeline(
                    ["pg_dump", *flags, *target.args],
                    ["gzip", "-c", "-6"],
                    env=target.env,
                    stdout_path=partial,
                    progress=lambda: {"bytes": partial.stat().st_size if partial.exists() else 0},
                )
                if not result.ok:
                    raise ApplicationError(
                        f"pg_dump exited {result.first_code}, gzip {result.second_code}:"
                        f" {(result.first_err or result.second_err).strip()[-500:]}",
                        type=TOOL_FAILED,
                    )
                digest = await heartbeating(asyncio.to_thread(sha256_of, partial), step="checksum")
                await asyncio.to_thread(fsync_path, partial)
                await asyncio.to_thread(write_atomic, checksum, f"{digest}  {final.name}\n")
                await asyncio.to_thread(os.replace, partial, final)
                await asyncio.to_thread(fsync_path, self._dir)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        size = final.stat().st_size
        return Step(
            name="dump",
            outcome="ok",
            detail=f"{final.name} written ({size} bytes, {job.variant})",
            figures={"file": final.name, "bytes": size, "sha256": digest, "reused": False},
            started_at=started,
            finished_at=_now(),
        )

    @activity.defn(name=BACKUP_VERIFY)
    async def verify(self, ref: ArchiveRef) -> Step:
        """The archive matches its checksum and gunzips into a complete dump."""
        started = _now()
        digest, size, raw = await self._verified(self._archive(ref.file_name))
        return Step(
            name="verify",
            outcome="ok",
            detail=f"{ref.file_name}: checksum ok, {raw} bytes of SQL read back",
            figures={"file": ref.file_name, "sha256": digest, "bytes": size, "sql_bytes": raw},
            started_at=started,
            finished_at=_now(),
        )

    @activity.defn(name=BACKUP_RETENTION)
    async def retention(self) -> Step:
        """Delete backups (and their checksums) older than backup_retention_days; only
        files named like a backup, never the newest archive, never anything else."""
        started = _now()
        days = self._settings.backup_retention_days
        deleted = await asyncio.to_thread(self._prune, time.time() - days * 86400)
        return Step(
            name="retention",
            outcome="ok",
            detail=f"{len(deleted)} file(s) older than {days} days deleted",
            figures={"deleted": deleted, "retention_days": days},
            started_at=started,
            finished_at=_now(),
        )

    def _prune(self, cutoff: float) -> list[str]:
        if not self._dir.is_dir():
            return []
        archives: list[Path] = []
        checksums: list[Path] = []
        for path in self._dir.iterdir():
            if path.is_symlink() or not path.is_file():
                continue
            if BACKUP_NAME.fullmatch(path.name):
                archives.append(path)
            elif path.name.endswith(CHECKSUM_SUFFIX) and BACKUP_NAME.fullmatch(
                path.name.removesuffix(CHECKSUM_SUFFIX)
            ):
                checksums.append(path)
        newest = max(archives, key=lambda p: archive_stamp(p.name), default=None)
        deleted: list[str] = []
        for archive in archives:
            if archive != newest and archive.stat().st_mtime < cutoff:
                archive.unlink(missing_ok=True)
                deleted.append(archive.name)
                checksum = self._checksum_of(archive)
                if checksum in checksums:
                    checksum.unlink(missing_ok=True)
                    deleted.append(checksum.name)
                    checksums.remove(checksum)
        for checksum in checksums:
            archive = checksum.with_name(checksum.name.removesuffix(CHECKSUM_SUFFIX))
            if not archive.exists() and checksum.stat().st_mtime < cutoff:
                checksum.unlink(missing_ok=True)
                deleted.append(checksum.name)
        return sorted(deleted)
