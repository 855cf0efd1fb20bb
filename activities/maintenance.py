"""The runbook's daily, weekly and monthly checks, one activity per step.

Each returns a Step with its figures; a finding that needs a person is outcome
"alert" (counted and sent to the operators when the report is stored), a check
that cannot apply here is "skipped". Everything that can be retried safely is:
reads, ANALYZE/REINDEX/VACUUM, a DELETE by age, file deletions by age.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.backup import heartbeating
from ops.contracts import (
    CHECK_DISK,
    CHECK_ERROR_LOGS,
    CHECK_HEALTH,
    CHECK_TLS,
    CLEAN_OLD_LOGS,
    DB_ANALYZE,
    DB_PURGE_MESSAGES,
    DB_REINDEX,
    DB_SIZE,
    DB_VACUUM_FULL,
    PULL_IMAGES,
    ROTATE_LOGS,
    LogRotation,
)
from settings import Settings
from workflows.ops_contracts import Step

#: Base images the runbook refreshes monthly.
BASE_IMAGES = ("postgres:16-alpine", "rabbitmq:3.13-management-alpine")
MESSAGE_RETENTION_DAYS = 30
TLS_ALERT_DAYS = 30
ERROR_WINDOW = timedelta(hours=24)
#: Already rotated logs (`api.202611.log`) are not rotated again.
ROTATED = re.compile(r"\.\d{6}\.log$")


class DiskUsage(NamedTuple):
    total: int
    used: int
    free: int


#: `shutil.disk_usage` or a stand-in (tests simulate a full disk with one).
DiskUsageProbe = Callable[[Path], DiskUsage]


def _real_disk_usage(path: Path) -> DiskUsage:
    usage = shutil.disk_usage(path)
    return DiskUsage(usage.total, usage.used, usage.free)


def _now() -> datetime:
    return datetime.now(UTC)


def _step(
    name: str,
    outcome: str,
    detail: str,
    started: datetime,
    figures: dict[str, Any] | None = None,
) -> Step:
    return Step.model_validate(
        {
            "name": name,
            "outcome": outcome,
            "detail": detail,
            "figures": figures or {},
            "started_at": started,
            "finished_at": _now(),
        }
    )


def _existing_parent(path: Path) -> Path:
    """The nearest existing directory: a folder not created yet still lives on a disk."""
    current = path.absolute()
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def _log_files(log_dir: Path) -> Iterator[Path]:
    if log_dir.is_dir():
        for path in sorted(log_dir.rglob("*.log")):
            if path.is_file() and not path.is_symlink():
                yield path


def _count_errors(log_dir: Path, since: datetime) -> tuple[int, int]:
    """ERROR lines logged since `since` in the JSON logs (level field; a line without a
    readable timestamp counts when its file changed in the window). (errors, files read)."""
    errors = 0
    files = 0
    since_ts = since.timestamp()
    for path in _log_files(log_dir):
        if path.stat().st_mtime < since_ts:
            continue
        files += 1
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if '"ERROR"' not in line and " ERROR " not in line:
                    continue
                errors += _is_recent_error(line, since)
    return errors, files


def _is_recent_error(line: str, since: datetime) -> int:
    try:
        entry = json.loads(line)
    except ValueError:
        # The text format (`LOG_FORMAT=text`): "<date> <time> ERROR logger message".
        return int(line.split(" ", 3)[2:3] == ["ERROR"])
    if not isinstance(entry, dict) or str(entry.get("level", "")).upper() not in (
        "ERROR",
        "CRITICAL",
    ):
        return 0
    stamp = entry.get("ts")
    if not isinstance(stamp, str):
        return 1
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return 1
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when >= since)


def _delete_old_logs(log_dir: Path, cutoff: float) -> list[str]:
    deleted = []
    for path in _log_files(log_dir):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted.append(str(path.relative_to(log_dir)))
    return deleted


def _rotate(log_dir: Path, month: str) -> list[dict[str, Any]]:
    """Copy-truncate every current log into `<name>.<YYYYMM>.log`.

    Processes keep their file descriptors (opened in append mode), so renaming would
    leave them writing to the rotated file; copying then truncating keeps them on the
    live file. Lines written between the copy and the truncate are lost (accepted).
    """
    rotated = []
    for path in _log_files(log_dir):
        if ROTATED.search(path.name) or path.stat().st_size == 0:
            continue
        target = path.with_name(f"{path.stem}.{month}.log")
        with path.open("rb") as src, target.open("ab") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
            size = src.tell()
        os.truncate(path, 0)
        rotated.append({"log": path.name, "rotated_to": target.name, "bytes": size})
    return rotated


class MaintenanceActivities:
    """Holds the engine, the settings, and the disk probe (injectable for tests)."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: Settings,
        *,
        disk_usage: DiskUsageProbe | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._disk_usage = disk_usage or _real_disk_usage

    # -- daily --------------------------------------------------------------------------

    @activity.defn(name=CHECK_HEALTH)
    async def health(self) -> Step:
        """GET the API's health endpoint; anything but 200 UP is an alert."""
        started = _now()
        url = self._settings.deploy_health_url
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                resp = await http.get(url)
        except httpx.HTTPError as err:
            return _step(
                "health", "alert", f"{url} unreachable: {type(err).__name__}", started, {"url": url}
            )
        try:
            body = resp.json()
        except ValueError:
            body = {}
        status = body.get("status") if isinstance(body, dict) else None
        figures = {"url": url, "http_status": resp.status_code, "status": status}
        if resp.status_code == 200 and status == "UP":
            return _step("health", "ok", "API UP", started, figures)
        return _step(
            "health", "alert", f"API answered {resp.status_code} {status}", started, figures
        )

    @activity.defn(name=CHECK_DISK)
    async def disk(self) -> Step:
        """Use of the filesystems holding backup_dir and log_dir (each counted once)."""
        started = _now()
        limit = self._settings.disk_alert_percent
        readings: list[dict[str, Any]] = []
        seen: set[int] = set()
        for folder in (self._settings.backup_dir, self._settings.log_dir):
            probe_at = await asyncio.to_thread(_existing_parent, Path(folder))
            device = probe_at.stat().st_dev
            if device in seen:
                continue
            seen.add(device)
            usage = await asyncio.to_thread(self._disk_usage, probe_at)
            # Like df: share of the space available to users (root's reserve excluded).
            capacity = usage.used + usage.free
            percent = round(100.0 * usage.used / capacity, 1) if capacity else 100.0
            readings.append(
                {
                    "path": str(folder),
                    "percent": percent,
                    "total": usage.total,
                    "used": usage.used,
                    "free": usage.free,
                }
            )
        full = [r for r in readings if r["percent"] >= limit]
        figures = {"filesystems": readings, "threshold_percent": limit}
        if full:
            detail = ", ".join(f"{r['path']} at {r['percent']}%" for r in full)
            return _step("disk", "alert", f"disk usage high: {detail}", started, figures)
        top = max((r["percent"] for r in readings), default=0.0)
        return _step("disk", "ok", f"highest use {top}% (< {limit}%)", started, figures)

    @activity.defn(name=CHECK_ERROR_LOGS)
    async def error_logs(self) -> Step:
        """ERROR lines of the last 24 h in the JSON logs under log_dir."""
        started = _now()
        errors, files = await heartbeating(
            asyncio.to_thread(_count_errors, Path(self._settings.log_dir), started - ERROR_WINDOW)
        )
        limit = self._settings.error_alert_threshold
        figures = {"errors_24h": errors, "files": files, "threshold": limit}
        if errors > limit:
            return _step(
                "error_logs", "alert", f"{errors} ERROR lines in 24 h (> {limit})", started, figures
            )
        return _step("error_logs", "ok", f"{errors} ERROR lines in 24 h", started, figures)

    @activity.defn(name=CLEAN_OLD_LOGS)
    async def clean_logs(self) -> Step:
        """Delete *.log files older than log_retention_days under log_dir (nothing else)."""
        started = _now()
        days = self._settings.log_retention_days
        deleted = await asyncio.to_thread(
            _delete_old_logs, Path(self._settings.log_dir), time.time() - days * 86400
        )
        return _step(
            "log_cleanup",
            "ok",
            f"{len(deleted)} log file(s) older than {days} days deleted",
            started,
            {"deleted": deleted, "retention_days": days},
        )

    # -- weekly -------------------------------------------------------------------------

    async def _autocommit(self, sql: str) -> None:
        """Statements that refuse a transaction block (VACUUM, REINDEX DATABASE)."""
        async with self._engine.connect() as raw:
            conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))

    async def _size(self) -> int:
        async with self._engine.connect() as conn:
            size = await conn.execute(text("SELECT pg_database_size(current_database())"))
            return int(size.scalar_one())

    async def _database(self) -> str:
        async with self._engine.connect() as conn:
            return str((await conn.execute(text("SELECT current_database()"))).scalar_one())

    @activity.defn(name=DB_ANALYZE)
    async def analyze(self) -> Step:
        started = _now()
        await heartbeating(self._autocommit("ANALYZE"), step="analyze")
        return _step("analyze", "ok", "planner statistics refreshed", started)

    @activity.defn(name=DB_REINDEX)
    async def reindex(self) -> Step:
        """REINDEX DATABASE of the app database (the app role owns it)."""
        started = _now()
        name = await self._database()
        quoted = '"' + name.replace('"', '""') + '"'
        await heartbeating(self._autocommit(f"REINDEX DATABASE {quoted}"), step="reindex")
        return _step("reindex", "ok", f"indexes of {name} rebuilt", started, {"database": name})

    @activity.defn(name=DB_PURGE_MESSAGES)
    async def purge_messages(self) -> Step:
        """Delete customer messages older than 30 days (their delivery is long settled)."""
        started = _now()
        async with self._engine.begin() as conn:
            deleted = (
                await conn.execute(
                    text(
                        "DELETE FROM mensaje WHERE created_at < now() - make_interval(days => :d)"
                    ),
                    {"d": MESSAGE_RETENTION_DAYS},
                )
            ).rowcount
        return _step(
            "purge_messages",
            "ok",
            f"{deleted} message(s) older than {MESSAGE_RETENTION_DAYS} days deleted",
            started,
            {"deleted": deleted, "older_than_days": MESSAGE_RETENTION_DAYS},
        )

    @activity.defn(name=DB_SIZE)
    async def db_size(self) -> Step:
        started = _now()
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT current_database() AS name, pg_database_size(current_database())"
                        " AS bytes, pg_size_pretty(pg_database_size(current_database())) AS pretty"
                    )
                )
            ).one()
        return _step(
            "db_size",
            "ok",
            f"{row.name}: {row.pretty}",
            started,
            {"database": row.name, "bytes": int(row.bytes), "pretty": row.pretty},
        )

    # -- monthly ------------------------------------------------------------------------

    @activity.defn(name=DB_VACUUM_FULL)
    async def vacuum_full(self) -> Step:
        """VACUUM FULL: rewrites tables (exclusive locks), hence the monthly night slot."""
        started = _now()
        before = await self._size()
        await heartbeating(self._autocommit("VACUUM FULL"), step="vacuum_full")
        after = await self._size()
        return _step(
            "vacuum_full",
            "ok",
            f"{before - after} bytes reclaimed",
            started,
            {"bytes_before": before, "bytes_after": after},
        )

    @activity.defn(name=ROTATE_LOGS)
    async def rotate_logs(self, req: LogRotation) -> Step:
        started = _now()
        rotated = await heartbeating(
            asyncio.to_thread(_rotate, Path(self._settings.log_dir), req.month)
        )
        return _step(
            "log_rotation",
            "ok",
            f"{len(rotated)} log file(s) rotated to *.{req.month}.log",
            started,
            {"rotated": rotated},
        )

    @activity.defn(name=PULL_IMAGES)
    async def pull_images(self) -> Step:
        """`docker pull` of the base images, only where the deployment uses Docker."""
        started = _now()
        if self._settings.container_engine != "docker":
            return _step(
                "image_update",
                "skipped",
                f"container_engine is {self._settings.container_engine!r}",
                started,
            )
        pulled = []
        for image in BASE_IMAGES:
            code, out = await heartbeating(_run([self._settings.docker_bin, "pull", image], 1800))
            if code != 0:
                raise ApplicationError(f"docker pull {image} exited {code}: {out[-300:]}")
            pulled.append(image)
        detail = f"pulled {', '.join(pulled)}"
        return _step("image_update", "ok", detail, started, {"images": pulled})

    @activity.defn(name=CHECK_TLS)
    async def tls_expiry(self) -> Step:
        """Days until the certificate expires (`openssl x509 -enddate`); < 30 is an alert."""
        started = _now()
        cert = self._settings.tls_cert_path
        openssl = shutil.which("openssl")
        if cert is None or openssl is None:
            why = "no tls_cert_path configured" if cert is None else "openssl not installed"
            return _step("tls_expiry", "skipped", why, started)
        if not await asyncio.to_thread(Path(cert).is_file):
            return _step(
                "tls_expiry", "alert", f"certificate {cert} not found", started, {"path": str(cert)}
            )
        code, out = await _run([openssl, "x509", "-enddate", "-noout", "-in", str(cert)], 30)
        match = re.search(r"notAfter=(.+)", out)
        if code != 0 or match is None:
            return _step(
                "tls_expiry", "alert", f"cannot read {cert}: {out.strip()[-200:]}", started
            )
        expires = datetime.strptime(match.group(1).strip(), "%b %d %H:%M:%S %Y %Z").replace(
            tzinfo=UTC
        )
        days = (expires - started).total_seconds() / 86400
        figures = {"path": str(cert), "not_after": expires.isoformat(), "days_left": round(days, 1)}
        if days < TLS_ALERT_DAYS:
            return _step(
                "tls_expiry",
                "alert",
                f"certificate expires in {days:.0f} days ({expires:%Y-%m-%d})",
                started,
                figures,
            )
        return _step(
            "tls_expiry", "ok", f"certificate valid for {days:.0f} more days", started, figures
        )


async def _run(argv: list[str], max_seconds: float) -> tuple[int, str]:
    """A short command's exit code and combined output."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), max_seconds)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace")
