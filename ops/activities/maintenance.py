"""The runbook's daily and monthly checks of the host, one activity per step (the
database routines are `maintenance_db.py`, the log folder's file work `logfiles.py`).

Each returns a Step with its figures; a finding that needs a person is outcome
"alert" (counted and sent to the operators when the report is stored), a check
that cannot apply here is "skipped". Everything that can be retried safely is:
reads, ANALYZE/REINDEX/VACUUM, a DELETE by age, file deletions by age.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from ops.activities.heartbeat import heartbeating
from ops.activities.logfiles import count_errors, delete_old_logs, rotate
from ops.contracts import (
    CHECK_DISK,
    CHECK_ERROR_LOGS,
    CHECK_HEALTH,
    CHECK_TLS,
    CLEAN_OLD_LOGS,
    PULL_IMAGES,
    ROTATE_LOGS,
    LogRotation,
    Step,
)
from settings import Settings

#: Base images the runbook refreshes monthly.
BASE_IMAGES = ("postgres:16-alpine", "rabbitmq:3.13-management-alpine")
TLS_ALERT_DAYS = 30
ERROR_WINDOW = timedelta(hours=24)


class DiskUsage(NamedTuple):
    total: int
    used: int
    free: int


#: `shutil.disk_usage` or a stand-in (tests simulate a full disk with one).
DiskUsageProbe = Callable[[Path], DiskUsage]


def _real_disk_usage(path: Path) -> DiskUsage:
    usage = shutil.disk_usage(path)
    return DiskUsage(usage.total, usage.used, usage.free)


def now() -> datetime:
    return datetime.now(UTC)


def finished_step(
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
            "finished_at": now(),
        }
    )


def _existing_parent(path: Path) -> Path:
    """The nearest existing directory: a folder not created yet still lives on a disk."""
    current = path.absolute()
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


class MaintenanceActivities:
    """Holds the settings and the disk probe (injectable for tests)."""

    def __init__(
        self,
        settings: Settings,
        *,
        disk_usage: DiskUsageProbe | None = None,
    ) -> None:
        self._settings = settings
        self._disk_usage = disk_usage or _real_disk_usage

    # -- daily --------------------------------------------------------------------------

    @activity.defn(name=CHECK_HEALTH)
    async def health(self) -> Step:
        """GET the API's health endpoint; anything but 200 UP is an alert."""
        started = now()
        url = self._settings.deploy_health_url
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                resp = await http.get(url)
        except httpx.HTTPError as err:
            return finished_step(
                "health", "alert", f"{url} unreachable: {type(err).__name__}", started, {"url": url}
            )
        try:
            body = resp.json()
        except ValueError:
            body = {}
        status = body.get("status") if isinstance(body, dict) else None
        figures = {"url": url, "http_status": resp.status_code, "status": status}
        if resp.status_code == 200 and status == "UP":
            return finished_step("health", "ok", "API UP", started, figures)
        return finished_step(
            "health", "alert", f"API answered {resp.status_code} {status}", started, figures
        )

    @activity.defn(name=CHECK_DISK)
    async def disk(self) -> Step:
        """Use of the filesystems holding backup_dir and log_dir (each counted once)."""
        started = now()
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
            return finished_step("disk", "alert", f"disk usage high: {detail}", started, figures)
        top = max((r["percent"] for r in readings), default=0.0)
        return finished_step("disk", "ok", f"highest use {top}% (< {limit}%)", started, figures)

    @activity.defn(name=CHECK_ERROR_LOGS)
    async def error_logs(self) -> Step:
        """ERROR lines of the last 24 h in the JSON logs under log_dir."""
        started = now()
        errors, files = await heartbeating(
            asyncio.to_thread(count_errors, Path(self._settings.log_dir), started - ERROR_WINDOW)
        )
        limit = self._settings.error_alert_threshold
        figures = {"errors_24h": errors, "files": files, "threshold": limit}
        if errors > limit:
            return finished_step(
                "error_logs", "alert", f"{errors} ERROR lines in 24 h (> {limit})", started, figures
            )
        return finished_step("error_logs", "ok", f"{errors} ERROR lines in 24 h", started, figures)

    @activity.defn(name=CLEAN_OLD_LOGS)
    async def clean_logs(self) -> Step:
        """Delete *.log files older than log_retention_days under log_dir (nothing else)."""
        started = now()
        days = self._settings.log_retention_days
        deleted = await asyncio.to_thread(
            delete_old_logs, Path(self._settings.log_dir), time.time() - days * 86400
        )
        return finished_step(
            "log_cleanup",
            "ok",
            f"{len(deleted)} log file(s) older than {days} days deleted",
            started,
            {"deleted": deleted, "retention_days": days},
        )

    # -- monthly ------------------------------------------------------------------------

    @activity.defn(name=ROTATE_LOGS)
    async def rotate_logs(self, req: LogRotation) -> Step:
        started = now()
        rotated = await heartbeating(
            asyncio.to_thread(rotate, Path(self._settings.log_dir), req.month)
        )
        return finished_step(
            "log_rotation",
            "ok",
            f"{len(rotated)} log file(s) rotated to *.{req.month}.log",
            started,
            {"rotated": rotated},
        )

    @activity.defn(name=PULL_IMAGES)
    async def pull_images(self) -> Step:
        """`docker pull` of the base images, only where the deployment uses Docker."""
        started = now()
        if self._settings.container_engine != "docker":
            return finished_step(
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
        return finished_step("image_update", "ok", detail, started, {"images": pulled})

    @activity.defn(name=CHECK_TLS)
    async def tls_expiry(self) -> Step:
        """Days until the certificate expires (`openssl x509 -enddate`); < 30 is an alert."""
        started = now()
        cert = self._settings.tls_cert_path
        openssl = shutil.which("openssl")
        if cert is None or openssl is None:
            why = "no tls_cert_path configured" if cert is None else "openssl not installed"
            return finished_step("tls_expiry", "skipped", why, started)
        if not await asyncio.to_thread(Path(cert).is_file):
            return finished_step(
                "tls_expiry", "alert", f"certificate {cert} not found", started, {"path": str(cert)}
            )
        code, out = await _run([openssl, "x509", "-enddate", "-noout", "-in", str(cert)], 30)
        match = re.search(r"notAfter=(.+)", out)
        if code != 0 or match is None:
            return finished_step(
                "tls_expiry", "alert", f"cannot read {cert}: {out.strip()[-200:]}", started
            )
        expires = datetime.strptime(match.group(1).strip(), "%b %d %H:%M:%S %Y %Z").replace(
            tzinfo=UTC
        )
        days = (expires - started).total_seconds() / 86400
        figures = {"path": str(cert), "not_after": expires.isoformat(), "days_left": round(days, 1)}
        if days < TLS_ALERT_DAYS:
            return finished_step(
                "tls_expiry",
                "alert",
                f"certificate expires in {days:.0f} days ({expires:%Y-%m-%d})",
                started,
                figures,
            )
        return finished_step(
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
