"""A worker killed in the middle of a dump: the next worker finishes the same backup,
with exactly one archive and no partial file left behind."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from ops.contracts import BackupRequest, OpsReport
from ops.workflows.backup import BackupWorkflow
from settings import Settings
from tests.operations.helpers import add_tickets, archives, ops_worker, run_id
from tests.support.stack import REPO
from tests.support.wait import eventually

#: A pg_dump that never ends: the test kills its worker meanwhile.
SLOW_PG_DUMP = "#!/bin/sh\nexec sleep 300\n"


def _slow_bin(folder: Path) -> Path:
    folder.mkdir()
    fake = folder / "pg_dump"
    fake.write_text(SLOW_PG_DUMP)
    fake.chmod(0o755)
    return folder


async def _heartbeating_dump(client: Client, workflow_id: str) -> bool:
    desc = await client.get_workflow_handle(workflow_id).describe()
    return any(
        p.activity_type.name == "ops.backup.dump" and p.HasField("last_heartbeat_time")
        for p in desc.raw_description.pending_activities
    )


async def _dump_attempts(client: Client, workflow_id: str) -> int:
    attempts = 0
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("activity_task_started_event_attributes"):
            attempts = max(attempts, event.activity_task_started_event_attributes.attempt)
    return attempts


async def test_killed_worker_mid_dump_leaves_one_archive(
    temporal: Client, ops_settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    await add_tickets(engine, 2)
    slow = _slow_bin(tmp_path / "slow-bin")
    env = {
        **os.environ,
        "PATH": f"{slow}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": ops_settings.database_url,
        "TEMPORAL_ADDRESS": ops_settings.temporal_address,
        "TEMPORAL_TASK_QUEUE": ops_settings.temporal_task_queue,
        "BACKUP_DIR": str(ops_settings.backup_dir),
        "LOG_DIR": str(ops_settings.log_dir),
    }
    out = (tmp_path / "worker.out").open("wb")
    first = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.operations.ops_worker_process",
        cwd=REPO,
        env=env,
        stdout=out,
        stderr=out,
    )
    workflow_id = run_id("ops-test-backup-killed")
    try:
        handle = await temporal.start_workflow(
            BackupWorkflow.run,
            BackupRequest(reason="kill test"),
            id=workflow_id,
            task_queue=ops_settings.temporal_task_queue + "-ops",
        )

        async def partial_written() -> bool:
            names = archives(ops_settings.backup_dir)
            return any(n.endswith(".partial") for n in names) and await _heartbeating_dump(
                temporal, workflow_id
            )

        await eventually(partial_written, timeout=30, what="a heartbeating dump with a .partial")
        first.kill()  # SIGKILL: no cleanup, no graceful shutdown
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
        out.close()

    async with ops_worker(temporal, ops_settings):
        report: OpsReport = await asyncio.wait_for(handle.result(), timeout=90)
    assert report.outcome == "ok", report
    name = report.steps[0].figures["file"]
    assert archives(ops_settings.backup_dir) == [name, name + ".sha256"]
    assert await _dump_attempts(temporal, workflow_id) >= 2
