"""Backup and restore activities: pg_dump | gzip into the backup folder, and back.

Only the application database (settings.database_url) is dumped or restored, never
Temporal's. Every activity is idempotent: the archive name comes from the workflow,
a dump whose archive and checksum exist returns at once, and a restore is one
PostgreSQL transaction (replayed from the same archive on retry). Dumps and
restores hold one advisory lock (db.ops.ops_lock), so they never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import os
import shutil
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import ops
from ops.contracts import (
    BACKUP_DUMP,
    BACKUP_NAME,
    BACKUP_RETENTION,
    BACKUP_VERIFY,
    CHECKSUM_SUFFIX,
    DATA_PREFIX,
    PARTIAL_SUFFIX,
    RESTORE_APPLY,
    RESTORE_INTEGRITY,
    RESTORE_PICK,
    SAFETY_PREFIX,
    ArchiveRef,
    DumpJob,
    PickedBackup,
    PickRequest,
    RestoreJob,
)
from settings import Settings
from workflows.ops_contracts import Step

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parents[1] / "db" / "migrations"
#: Seconds between heartbeats of a long step (workflows set heartbeat_timeout ≥ 5x this).
HEARTBEAT_EVERY = 2.0
#: How long a dump or restore waits for the other to release the lock before retrying.
LOCK_WAIT_SECONDS = 600.0
DUMP_HEADER = b"-- PostgreSQL database dump"
DUMP_FOOTER = b"-- PostgreSQL database dump complete"
CHUNK = 1 << 20

#: Error types the workflows treat as final (retrying cannot help).
BACKUP_REFUSED = "BackupRefused"
BACKUP_CORRUPT = "BackupCorrupt"
OPS_BUSY = "OpsBusy"
TOOL_FAILED = "ToolFailed"
#: The restore keeps the operations history: ops_run rows survive a restore.
_OPS_RUN_COLUMNS = "workflow_id, kind, outcome, summary, report, started_at, finished_at"


def _now() -> datetime:
    return datetime.now(UTC)


def _beat(**details: Any) -> None:
    """Heartbeat when running as an activity (a plain call in a unit test is fine too)."""
    if activity.in_activity():
        activity.heartbeat(details)


async def heartbeating(work: Awaitable[T], **details: Any) -> T:
    """Await `work`, heartbeating meanwhile; cancelling the activity cancels the work."""
    task = asyncio.ensure_future(work)
    started = time.monotonic()
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
            _beat(elapsed=round(time.monotonic() - started, 1), **details)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def _orphan_guard() -> list[str]:
    """Children die with the worker (`setpriv --pdeathsig`), so a killed worker leaves
    no pg_dump or psql running against the database."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


@dataclass(frozen=True)
class ToolResult:
    first_code: int
    first_err: str
    second_code: int
    second_err: str

    @property
    def ok(self) -> bool:
        return self.first_code == 0 and self.second_code == 0


async def run_pipeline(
    first: list[str],
    second: list[str],
    *,
    env: Mapping[str, str],
    stdin_path: Path | None = None,
    stdout_path: Path | None = None,
    progress: Callable[[], dict[str, Any]] | None = None,
) -> ToolResult:
    """`first | second` with OS pipes (no data through Python), heartbeating while it runs.

    On cancellation both processes are killed before the error propagates.
    """
    guard = _orphan_guard()
    read_end, write_end = os.pipe()
    with contextlib.ExitStack() as files:
        src = files.enter_context(stdin_path.open("rb")) if stdin_path else None
        dst = files.enter_context(stdout_path.open("wb")) if stdout_path else None
        try:
            p1 = await asyncio.create_subprocess_exec(
                *guard,
                *first,
                stdin=src if src is not None else asyncio.subprocess.DEVNULL,
                stdout=write_end,
                stderr=asyncio.subprocess.PIPE,
                env=dict(env),
            )
            try:
                p2 = await asyncio.create_subprocess_exec(
                    *guard,
                    *second,
                    stdin=read_end,
                    stdout=dst if dst is not None else asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                    env=dict(env),
                )
            except BaseException:
                p1.kill()
                await p1.wait()
                raise
        finally:
            os.close(read_end)
            os.close(write_end)
        both = asyncio.gather(p1.communicate(), p2.communicate())
        started = time.monotonic()
        try:
            while True:
                done, _ = await asyncio.wait({both}, timeout=HEARTBEAT_EVERY)
                if done:
                    break
                extra = progress() if progress else {}
                _beat(elapsed=round(time.monotonic() - started, 1), **extra)
        except BaseException:
            for proc in (p1, p2):
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            with contextlib.suppress(BaseException):
                await both
            raise
        (_, err1), (_, err2) = both.result()
    return ToolResult(
        p1.returncode if p1.returncode is not None else -1,
        err1.decode(errors="replace"),
        p2.returncode if p2.returncode is not None else -1,
        err2.decode(errors="replace"),
    )


@dataclass(frozen=True)
class PgTarget:
    """libpq arguments and environment for the application database (password via env)."""

    args: list[str]
    env: dict[str, str]
    database: str


def pg_target(database_url: str, app_name: str) -> PgTarget:
    url = make_url(database_url)
    if not url.database:
        raise ApplicationError("DATABASE_URL names no database", type=BACKUP_REFUSED)
    args = ["--no-password", "-d", url.database]
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)  # keeps e.g. PGSSLROOTCERT; what the URL names wins below
    env.update(PGAPPNAME=app_name, PGCONNECT_TIMEOUT="10")
    env["PGOPTIONS"] = "-c client_min_messages=warning"
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    ssl = url.query.get("ssl") or url.query.get("sslmode")
    if isinstance(ssl, str) and ssl:
        env["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(ssl.lower(), ssl)
    return PgTarget(args, env, url.database)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_checksum(path: Path) -> str | None:
    """The digest of a sha256sum-format line (`<hex>  <name>`), or None if unreadable."""
    try:
        first = path.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return None
    return first[0].lower() if first and len(first[0]) == 64 else None


def _write_atomic(path: Path, content: str) -> None:
    tmp = path.with_name(path.name + PARTIAL_SUFFIX)
    with tmp.open("w", encoding="ascii") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_back(path: Path) -> int:
    """Gunzip the whole archive; it must be a complete PostgreSQL dump. Returns its size."""
    total = 0
    head = b""
    tail = b""
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                if len(head) < 4096:
                    head = (head + chunk)[:4096]
                tail = (tail + chunk)[-4096:]
                total += len(chunk)
    except (OSError, EOFError, zlib.error) as err:
        raise ApplicationError(
            f"{path.name} is not a readable gzip archive: {err}",
            type=BACKUP_CORRUPT,
            non_retryable=True,
        ) from err
    if DUMP_HEADER not in head:
        raise ApplicationError(
            f"{path.name} has no PostgreSQL dump header", type=BACKUP_CORRUPT, non_retryable=True
        )
    if DUMP_FOOTER not in tail:
        raise ApplicationError(
            f"{path.name} is a truncated dump (no completion line)",
            type=BACKUP_CORRUPT,
            non_retryable=True,
        )
    return total


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


class BackupActivities:
    """Holds the engine (lock, integrity queries) and the settings naming the folder."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._dir = Path(settings.backup_dir)

    # -- helpers ----------------------------------------------------------------------

    def _archive(self, file_name: str) -> Path:
        """A backup path inside the folder; anything else (`../x`, odd names) is refused."""
        if not BACKUP_NAME.fullmatch(file_name):
            raise ApplicationError(
                f"not a backup file name: {file_name!r}", type=BACKUP_REFUSED, non_retryable=True
            )
        return self._dir / file_name

    @staticmethod
    def _checksum_of(archive: Path) -> Path:
        return archive.with_name(archive.name + CHECKSUM_SUFFIX)

    def _lock(self, what: str) -> contextlib.AbstractAsyncContextManager[None]:
        return ops.ops_lock(
            self._engine,
            wait_seconds=LOCK_WAIT_SECONDS,
            on_wait=lambda: _beat(waiting_for_lock=what),
        )

    async def _verified(self, archive: Path) -> tuple[str, int, int]:
        """Checksum first (tampering), then a full read-back: (sha256, bytes, raw bytes)."""
        checksum = self._checksum_of(archive)
        if not await asyncio.to_thread(archive.is_file):
            raise ApplicationError(
                f"backup {archive.name} not found", type=BACKUP_REFUSED, non_retryable=True
            )
        expected = await asyncio.to_thread(_read_checksum, checksum)
        if expected is None:
            raise ApplicationError(
                f"backup {archive.name} has no readable checksum file",
                type=BACKUP_CORRUPT,
                non_retryable=True,
            )
        actual = await heartbeating(asyncio.to_thread(_sha256, archive), step="checksum")
        if actual != expected:
            raise ApplicationError(
                f"checksum mismatch for {archive.name}: expected {expected[:12]}…,"
                f" got {actual[:12]}…",
                type=BACKUP_CORRUPT,
                non_retryable=True,
            )
        raw = await heartbeating(asyncio.to_thread(_read_back, archive), step="read_back")
        size = (await asyncio.to_thread(archive.stat)).st_size
        return actual, size, raw

    # -- backup -----------------------------------------------------------------------

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
                digest = await asyncio.to_thread(_read_checksum, checksum)
                if digest is None:
                    digest = await heartbeating(asyncio.to_thread(_sha256, final))
                    await asyncio.to_thread(_write_atomic, checksum, f"{digest}  {final.name}\n")
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
                digest = await heartbeating(asyncio.to_thread(_sha256, partial), step="checksum")
                await asyncio.to_thread(_fsync, partial)
                await asyncio.to_thread(_write_atomic, checksum, f"{digest}  {final.name}\n")
                await asyncio.to_thread(os.replace, partial, final)
                await asyncio.to_thread(_fsync, self._dir)
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
        newest = max(archives, key=lambda p: _stamp(p.name), default=None)
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

    # -- restore ----------------------------------------------------------------------

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
        return sorted(found, key=lambda p: (_stamp(p.name), p.name))

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


def _stamp(name: str) -> str:
    match = BACKUP_NAME.fullmatch(name)
    return match.group("stamp") if match else ""
