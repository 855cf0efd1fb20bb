"""Backup and restore against a scratch copy of the real schema, through Temporal."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db import ops as ops_db
from ops import runs as ops_runs
from ops.contracts import BackupRequest, OpsReport, RestoreRequest
from ops.workflows.backup import BackupWorkflow
from ops.workflows.restore import RestoreWorkflow
from settings import Settings
from tests.operations.helpers import (
    add_tickets,
    archives,
    ops_worker,
    run_id,
    snapshot,
    step,
)


async def backup(client: Client, settings: Settings, variant: str = "full") -> OpsReport:
    return await client.execute_workflow(
        BackupWorkflow.run,
        BackupRequest(variant=variant, reason="test"),
        id=run_id("ops-test-backup"),
        task_queue=settings.temporal_task_queue + "-ops",
    )


async def restore(client: Client, settings: Settings, name: str | None) -> OpsReport:
    return await client.execute_workflow(
        RestoreWorkflow.run,
        RestoreRequest(backup=name, reason="test"),
        id=run_id("ops-test-restore"),
        task_queue=settings.temporal_task_queue + "-ops",
    )


async def sha256sum_check(folder: Path) -> None:
    """The checksum files are in sha256sum's own format."""
    names = [name for name in archives(folder) if name.endswith(".sha256")]
    proc = await asyncio.create_subprocess_exec(
        "sha256sum", "-c", *names, cwd=folder, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()


async def test_backup_then_restore_brings_back_that_moment(
    temporal: Client, ops_settings: Settings, engine: AsyncEngine
) -> None:
    early = await add_tickets(engine, 3)
    at_backup = await snapshot(engine)
    async with ops_worker(temporal, ops_settings):
        made = await backup(temporal, ops_settings)
        assert made.outcome == "ok", made
        name = step(made, "dump").figures["file"]
        assert name.startswith("ticketero_backup_") and name.endswith(".sql.gz")
        folder = ops_settings.backup_dir
        assert archives(folder) == [name, name + ".sha256"]
        await sha256sum_check(folder)
        assert step(made, "verify").outcome == "ok"
        with gzip.open(folder / name, "rt") as f:
            assert "PostgreSQL database dump" in f.read(4096)

        late = await add_tickets(engine, 2)
        assert (await snapshot(engine))[0] == at_backup[0] + 2

        done = await restore(temporal, ops_settings, name)
    assert done.outcome == "ok", done
    assert [s.name for s in done.steps] == [
        "verify",
        "maintenance_on",
        "safety_dump",
        "safety_verify",
        "restore",
        "integrity",
        "reconcile",
        "maintenance_off",
    ]
    safety = step(done, "safety_dump").figures["file"]
    assert safety.startswith("safety_ticketero_backup_")

    # The same pool, opened before the restore, reads the restored tables.
    assert await snapshot(engine) == at_backup
    async with engine.connect() as conn:
        present = set((await conn.execute(text("SELECT reference FROM ticket"))).scalars().all())
    assert set(early) <= present
    assert not set(late) & present
    assert step(done, "integrity").figures["tickets"] == at_backup[0]

    state = await ops_db.get_maintenance(engine)
    assert state.enabled is False
    # The operations history survives the restore, and the restore is in it.
    assert await ops_runs.get_run(engine, made.workflow_id) is not None
    stored = await ops_runs.get_run(engine, done.workflow_id)
    assert stored is not None and stored.outcome == "ok"
    kinds = [r.kind for r in await ops_runs.recent_runs(engine, limit=10)]
    assert "restore" in kinds and "backup" in kinds


async def test_corrupted_archive_is_refused_before_anything_is_touched(
    temporal: Client, ops_settings: Settings, engine: AsyncEngine
) -> None:
    await add_tickets(engine, 2)
    async with ops_worker(temporal, ops_settings):
        made = await backup(temporal, ops_settings)
        name = step(made, "dump").figures["file"]
        archive = ops_settings.backup_dir / name
        data = bytearray(archive.read_bytes())
        middle = len(data) // 2
        data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
        archive.write_bytes(bytes(data))

        await add_tickets(engine, 1)
        before = await snapshot(engine)
        flag_before = await ops_db.get_maintenance(engine)
        files_before = archives(ops_settings.backup_dir)

        refused = await restore(temporal, ops_settings, name)
    assert refused.outcome == "failed"
    assert [s.name for s in refused.steps] == ["verify"]
    assert "checksum mismatch" in refused.steps[0].detail
    assert archives(ops_settings.backup_dir) == files_before  # no safety backup taken
    assert await snapshot(engine) == before
    assert await ops_db.get_maintenance(engine) == flag_before  # never switched on
    stored = await ops_runs.get_run(engine, refused.workflow_id)
    assert stored is not None and stored.outcome == "failed"


async def test_restore_failing_integrity_puts_the_safety_backup_back(
    temporal: Client, ops_settings: Settings, engine: AsyncEngine
) -> None:
    """An archive of another schema version passes its checksum but not the integrity
    check: the saga restores the safety backup and reports rolled_back."""
    await add_tickets(engine, 2)
    async with ops_worker(temporal, ops_settings):
        made = await backup(temporal, ops_settings)
        name = step(made, "dump").figures["file"]
        folder = ops_settings.backup_dir
        with gzip.open(folder / name, "rt") as f:
            sql = f.read()
        forged = "ticketero_backup_20000101_000000.sql.gz"
        lines = sql.splitlines(keepends=True)
        at = next(i for i, line in enumerate(lines) if "COPY public.alembic_version" in line)
        lines[at + 1] = "0000_unknown\n"
        payload = gzip.compress("".join(lines).encode())
        (folder / forged).write_bytes(payload)
        digest = hashlib.sha256(payload).hexdigest()
        (folder / (forged + ".sha256")).write_text(f"{digest}  {forged}\n")

        await add_tickets(engine, 1)
        before = await snapshot(engine)
        done = await restore(temporal, ops_settings, forged)
    assert done.outcome == "rolled_back", done
    assert step(done, "integrity").outcome == "failed"
    assert step(done, "compensate").outcome == "compensated"
    assert step(done, "integrity_after_rollback").outcome == "ok"
    assert await snapshot(engine) == before
    assert (await ops_db.get_maintenance(engine)).enabled is False


@pytest.mark.parametrize(
    ("variant", "prefix"), [("clean", "ticketero_backup_"), ("data_only", "data_ticketero_backup_")]
)
async def test_clean_and_data_only_backups_restore_too(
    temporal: Client, ops_settings: Settings, engine: AsyncEngine, variant: str, prefix: str
) -> None:
    await add_tickets(engine, 2)
    at_backup = await snapshot(engine)
    async with ops_worker(temporal, ops_settings):
        made = await backup(temporal, ops_settings, variant)
        name = step(made, "dump").figures["file"]
        assert name.startswith(prefix)
        await add_tickets(engine, 2)
        done = await restore(temporal, ops_settings, name)
    assert done.outcome == "ok", done
    assert await snapshot(engine) == at_backup
