"""Daily, weekly and monthly routines against the real (scratch) database, with reports."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from ops import runs as ops_runs
from ops.activities.maintenance import DiskUsage
from ops.contracts import BackupRequest, MaintenanceRequest, OpsReport
from ops.workflows.backup import BackupWorkflow
from ops.workflows.maintenance import MaintenanceWorkflow
from settings import Settings
from tests.operations.helpers import add_tickets, counter, ops_worker, run_id, step
from tests.support.stack import Stack
from tests.support.wait import eventually

GIB = 1 << 30


def half_full(_: Path) -> DiskUsage:
    return DiskUsage(total=100 * GIB, used=50 * GIB, free=50 * GIB)


def nearly_full(_: Path) -> DiskUsage:
    """A simulated reading at 95 % (the real disk is left alone)."""
    return DiskUsage(total=100 * GIB, used=95 * GIB, free=5 * GIB)


async def maintain(client: Client, settings: Settings, routine: str) -> OpsReport:
    return await client.execute_workflow(
        MaintenanceWorkflow.run,
        MaintenanceRequest(routine=routine),
        id=run_id(f"ops-test-maintenance-{routine}"),
        task_queue=settings.temporal_task_queue + "-ops",
    )


def log_line(level: str, when: datetime, msg: str = "boom") -> str:
    return json.dumps({"ts": when.isoformat(timespec="milliseconds"), "level": level, "msg": msg})


def write_logs(folder: Path, errors: int) -> None:
    now = datetime.now(UTC)
    lines = [log_line("INFO", now, "fine") for _ in range(20)]
    lines += [log_line("ERROR", now - timedelta(minutes=i)) for i in range(errors)]
    lines += [log_line("ERROR", now - timedelta(days=2)) for _ in range(30)]  # too old
    (folder / "api.log").write_text("\n".join(lines) + "\n")


def age(path: Path, days: float) -> None:
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


async def test_daily_routine_ok(
    temporal: Client, ops_settings: Settings, engine: AsyncEngine
) -> None:
    logs = ops_settings.log_dir
    write_logs(logs, errors=3)
    (logs / "old.log").write_text("x\n")
    age(logs / "old.log", 10)
    (logs / "old.txt").write_text("not a log\n")
    age(logs / "old.txt", 10)
    async with ops_worker(temporal, ops_settings, disk_usage=half_full):
        nightly = await temporal.execute_workflow(  # what the 02:30 backup schedule runs
            BackupWorkflow.run,
            BackupRequest(reason="scheduled"),
            id=run_id("ops-test-backup"),
            task_queue=ops_settings.temporal_task_queue + "-ops",
        )
        archives_before = sorted(p.name for p in ops_settings.backup_dir.iterdir())
        report = await maintain(temporal, ops_settings, "daily")
    assert report.kind == "maintenance_daily"
    assert [s.name for s in report.steps] == [
        "health",
        "disk",
        "error_logs",
        "backup",
        "log_cleanup",
    ]
    assert report.outcome == "ok", report
    assert step(report, "health").figures["status"] == "UP"
    assert step(report, "disk").figures["filesystems"][0]["percent"] == 50.0
    assert step(report, "error_logs").figures["errors_24h"] == 3
    # One dump a night: the daily routine verifies the scheduled backup, it dumps nothing.
    backup = step(report, "backup")
    assert backup.figures["file"] == step(nightly, "dump").figures["file"]
    assert backup.figures["age_hours"] < 1
    assert sorted(p.name for p in ops_settings.backup_dir.iterdir()) == archives_before
    assert step(report, "log_cleanup").figures["deleted"] == ["old.log"]
    assert sorted(p.name for p in logs.iterdir()) == ["api.log", "old.txt"]
    stored = await ops_runs.get_run(engine, report.workflow_id)
    assert stored == report


async def test_full_disk_and_error_burst_raise_alerts(
    temporal: Client, ops_settings: Settings, engine: AsyncEngine, stack: Stack
) -> None:
    write_logs(ops_settings.log_dir, errors=12)
    chat = random.randint(10**9, 2 * 10**9)
    settings = ops_settings.model_copy(update={"ops_alert_chat_id": chat})
    disk_before = await counter(engine, "ops_alerts_total", "check=disk")
    errors_before = await counter(engine, "ops_alerts_total", "check=error_logs")
    async with ops_worker(temporal, settings, disk_usage=nearly_full):
        report = await maintain(temporal, settings, "daily")
    assert report.outcome == "alert", report
    assert step(report, "disk").outcome == "alert"
    assert step(report, "disk").figures["filesystems"][0]["percent"] == 95.0
    assert step(report, "error_logs").outcome == "alert"
    assert step(report, "error_logs").figures["errors_24h"] == 12
    assert step(report, "health").outcome == "ok"
    assert await counter(engine, "ops_alerts_total", "check=disk") == disk_before + 1
    assert await counter(engine, "ops_alerts_total", "check=error_logs") == errors_before + 1
    stored = await ops_runs.get_run(engine, report.workflow_id)
    assert stored is not None and stored.outcome == "alert"

    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:

        async def alert_message() -> list[dict[str, Any]] | None:
            resp = await sandbox.get(f"/sandbox/chats/{chat}/messages")
            got: list[dict[str, Any]] = resp.json() if resp.status_code == 200 else []
            return got or None

        messages = await eventually(alert_message, timeout=10, what="the operators' alert")
    assert "alert" in messages[0]["text"] and "disk" in messages[0]["text"]


async def test_weekly_routine(
    temporal: Client, ops_settings: Settings, engine: AsyncEngine
) -> None:
    refs = await add_tickets(engine, 2)
    async with engine.begin() as conn:
        for i, ref in enumerate(refs):
            await conn.execute(
                text(
                    "INSERT INTO mensaje (id, ticket_reference, type, channel, chat_id, state,"
                    " text, parse_mode, attempts, scheduled_at, created_at) VALUES"
                    " (gen_random_uuid(), :r, 'created', 'TELEGRAM', 1, 'SENT', 'x', 'HTML', 1,"
                    " now(), now() - make_interval(days => :d))"
                ),
                {"r": ref, "d": 40 if i == 0 else 1},
            )
    async with ops_worker(temporal, ops_settings):
        report = await maintain(temporal, ops_settings, "weekly")
    assert report.outcome == "ok", report
    assert [s.name for s in report.steps] == ["analyze", "reindex", "purge_messages", "db_size"]
    assert step(report, "purge_messages").figures["deleted"] == 1
    size = step(report, "db_size").figures
    assert size["bytes"] > 0 and size["pretty"].endswith(("kB", "MB"))
    async with engine.connect() as conn:
        left = (await conn.execute(text("SELECT count(*) FROM mensaje"))).scalar_one()
    assert left == 1
    assert await ops_runs.get_run(engine, report.workflow_id) == report


async def make_cert(folder: Path, days: int) -> Path:
    cert = folder / "ticketero.crt"
    proc = await asyncio.create_subprocess_exec(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=ticketero.test",
        "-days",
        str(days),
        "-keyout",
        str(folder / "ticketero.key"),
        "-out",
        str(cert),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await proc.wait() == 0
    return cert


async def test_monthly_routine(
    temporal: Client, ops_settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    logs = ops_settings.log_dir
    (logs / "worker.log").write_text("line 1\nline 2\n")
    cert = await make_cert(tmp_path, days=10)
    settings = ops_settings.model_copy(update={"tls_cert_path": cert})
    async with ops_worker(temporal, settings):
        report = await maintain(temporal, settings, "monthly")
    assert [s.name for s in report.steps] == [
        "vacuum_full",
        "log_rotation",
        "image_update",
        "tls_expiry",
    ]
    assert step(report, "vacuum_full").outcome == "ok"
    rotated = step(report, "log_rotation").figures["rotated"]
    month = report.started_at.strftime("%Y%m")
    assert rotated == [{"log": "worker.log", "rotated_to": f"worker.{month}.log", "bytes": 14}]
    assert (logs / "worker.log").read_text() == ""
    assert (logs / f"worker.{month}.log").read_text() == "line 1\nline 2\n"
    assert step(report, "image_update").outcome == "skipped"  # container_engine "none"
    tls = step(report, "tls_expiry")
    assert tls.outcome == "alert" and 9 <= tls.figures["days_left"] <= 10
    assert report.outcome == "alert"
    assert await ops_runs.get_run(engine, report.workflow_id) == report
