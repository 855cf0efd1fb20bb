"""Restore activities: pick and verify an archive, gunzip | psql it in one transaction,
check the result's integrity.

Only the application database (settings.database_url) is restored, never Temporal's.
A restore is one PostgreSQL transaction (replayed from the same archive on retry) and
holds the ops lock (db.ops.ops_lock) a dump holds too, so they never overlap.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from ops.activities.archives import BackupFolder, archive_stamp
from ops.activities.pg_tools import pg_target, run_pipeline
from ops.contracts import (
    BACKUP_NAME,
    BACKUP_REFUSED,
    DATA_PREFIX,
    RESTORE_APPLY,
    RESTORE_INTEGRITY,
    RESTORE_PICK,
    SAFETY_PREFIX,
    TOOL_FAILED,
    PickedBackup,
    PickRequest,
    RestoreJob,
    Step,
)

MIGRATIONS = Path(__file__).resolve().parents[2] / "db" / "migrations"
#: The restore keeps the operations history: ops_run rows survive a restore.
_OPS_RUN_COLUMNS = "workflow_id, kind, outcome, summary, report, started_at, finished_at"


def _now() -> datetime:
    return datetime.now(UTC)


def _restore_prefix(data_only: bool) -> str:
    """SQL run (in the restore's transaction) before the dump."""
    keep = (
        "DO $ops$ BEGIN IF to_regclass('public.ops_run') IS NOT NULL THEN"  # noqa: S608 - constant
        f" CREATE TEMP TABLE ops_run_keep ON COMMIT DROP AS SELECT {_OPS_RUN_COLUMNS}"
        " FROM public.ops_run; END IF; END $ops$;"
    )
    if data_only:
        # A data-only dump fills the existing schema: empty every table first.
        reset = (
            "DO $ops$ DECLARE names text; BEGIN"
            " SELECT string_agg(format('public.%I', tablename), ', ') INTO names"
            " FROM pg_tables WHERE schemaname = 'public';"
            " IF names IS NOT NULL THEN EXECUTE 'TRUNCATE TABLE ' || names || ' CASCADE';"
            " END IF; END $ops$;"
        )
    else:
        # Works for plain and --clean dumps alike: the dump then creates into an empty schema.
        reset = (
            "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public AUTHORIZATION CURRENT_USER;"
        )
    return f"SET lock_timeout = '60s'; {keep} {reset}"


def _restore_suffix(reason: str) -> str:
    """SQL run after the dump, still in the transaction: keep the operations history and
    stay in maintenance (the dump's own app_state row says `false`)."""
    literal = "'" + reason.replace("'", "''").replace("$ops$", "") + "'"
    return (
        "DO $ops$ BEGIN"  # noqa: S608 - constant text; the reason is a quoted literal
        " IF to_regclass('pg_temp.ops_run_keep') IS NOT NULL"
        " AND to_regclass('public.ops_run') IS NOT NULL THEN"
        f" BEGIN INSERT INTO public.ops_run ({_OPS_RUN_COLUMNS}) SELECT {_OPS_RUN_COLUMNS}"
        " FROM pg_temp.ops_run_keep ON CONFLICT (workflow_id) DO NOTHING;"
        " EXCEPTION WHEN others THEN"
        " RAISE WARNING 'operations history not carried over: %', SQLERRM; END;"
        " END IF;"
        " IF to_regclass('public.app_state') IS NOT NULL THEN"
        f" UPDATE public.app_state SET maintenance = true, maintenance_reason = {literal},"
        " changed_at = now() WHERE id = 1;"
        " END IF; END $ops$;"
    )


def code_head() -> str | None:
    """The alembic revision this code expects (db/migrations)."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


class RestoreActivities(BackupFolder):
    """pick, apply and integrity of the RestoreWorkflow."""

    @activity.defn(name=RESTORE_PICK)
    async def pick(self, req: PickRequest) -> PickedBackup:
        """The named backup (or the newest regular one), verified before anything is touched.

        Safety backups (`safety_…`) are never picked as "latest": restore them by name.
        """
        if req.backup:
            archive = self._archive(req.backup)
        else:
            candidates = await asyncio.to_thread(self._regular_backups)
            if not candidates:
                raise ApplicationError(
                    f"no backup in {self._dir}", type=BACKUP_REFUSED, non_retryable=True
                )
            archive = candidates[-1]
        digest, size, _ = await self._verified(archive)
        return PickedBackup(
            file_name=archive.name,
            data_only=archive.name.startswith(DATA_PREFIX),
            sha256=digest,
            size_bytes=size,
        )

    def _regular_backups(self) -> list[Path]:
        if not self._dir.is_dir():
            return []
        found = [
            p
            for p in self._dir.iterdir()
            if BACKUP_NAME.fullmatch(p.name)
            and not p.name.startswith(SAFETY_PREFIX)
            and self._checksum_of(p).is_file()
        ]
        return sorted(found, key=lambda p: (archive_stamp(p.name), p.name))

    @activity.defn(name=RESTORE_APPLY)
    async def apply(self, job: RestoreJob) -> Step:
        """gunzip | psql in ONE transaction (ON_ERROR_STOP): a failed restore changes nothing.

        A schema dump is loaded into a freshly created public schema (owned by the app
        role); a data-only dump into the emptied existing tables. The operations history
        (ops_run) is carried over and the maintenance flag stays on.
        """
        started = _now()
        archive = self._archive(job.file_name)
        if not archive.is_file():
            raise ApplicationError(
                f"backup {job.file_name} not found", type=BACKUP_REFUSED, non_retryable=True
            )
        target = pg_target(self._settings.database_url, "ticketero-restore")
        psql = [
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            *target.args,
            "-c",
            _restore_prefix(job.data_only),
            "-f",
            "-",
            "-c",
            _restore_suffix(job.reason),
        ]
        async with self._lock(f"restore {archive.name}"):
            result = await run_pipeline(["gzip", "-dc"], psql, env=target.env, stdin_path=archive)
        if not result.ok:
            raise ApplicationError(
                f"restore rolled back (gzip {result.first_code}, psql {result.second_code}):"
                f" {(result.second_err or result.first_err).strip()[-500:]}",
                type=TOOL_FAILED,
            )
        return Step(
            name="restore",
            outcome="ok",
            detail=f"{job.file_name} restored into {target.database}",
            figures={"file": job.file_name, "data_only": job.data_only},
            started_at=started,
            finished_at=_now(),
        )

    @activity.defn(name=RESTORE_INTEGRITY)
    async def integrity(self) -> Step:
        """The restored database answers, and its schema is the one this code expects."""
        started = _now()
        head = await asyncio.to_thread(code_head)
        try:
            async with self._engine.connect() as conn:
                tickets = (await conn.execute(text("SELECT COUNT(*) FROM ticket"))).scalar_one()
                versions = (
                    (await conn.execute(text("SELECT version_num FROM alembic_version")))
                    .scalars()
                    .all()
                )
        except ProgrammingError as err:
            return Step(
                name="integrity",
                outcome="failed",
                detail=f"restored database is incomplete: {err.orig}",
                started_at=started,
                finished_at=_now(),
            )
        figures = {"tickets": int(tickets), "alembic_version": list(versions), "code_head": head}
        if list(versions) != [head]:
            return Step(
                name="integrity",
                outcome="failed",
                detail=f"schema version {versions} does not match the code's head {head}",
                figures=figures,
                started_at=started,
                finished_at=_now(),
            )
        return Step(
            name="integrity",
            outcome="ok",
            detail=f"{tickets} tickets; schema at {head}",
            figures=figures,
            started_at=started,
            finished_at=_now(),
        )
