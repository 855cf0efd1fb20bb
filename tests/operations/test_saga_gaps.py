"""The restore saga's gaps (issue 12, point 5), on stand-in activities registered under the
real names: a cancelled restore waits for psql to stop before maintenance goes off and
ends CANCELED; a rollback whose re-check fails is no `rolled_back`; deploy, rollback and
restore start under one fixed id, so two concurrent starts let exactly one through."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from ops.client import OperationConflict, start_operation
from ops.contracts import (
    BACKUP_DUMP,
    BACKUP_VERIFY,
    DEPLOY_WORKFLOW,
    MAINTENANCE_ENTER,
    MAINTENANCE_LEAVE,
    REPORT_NOTIFY,
    REPORT_STORE,
    RESTORE_APPLY,
    RESTORE_INTEGRITY,
    RESTORE_PICK,
    RESTORE_WORKFLOW,
    ArchiveRef,
    DeployRequest,
    DumpJob,
    MaintenanceSwitch,
    OpsReport,
    PickedBackup,
    PickRequest,
    RestoreJob,
    RestoreRequest,
    Step,
)
from ops.workflows.restore import RestoreWorkflow
from settings import Settings
from tests.operations.helpers import run_id, step
from tests.support.stack import Stack
from tests.support.wait import eventually

#: The lock's fixed id (ops.contracts.EXCLUSIVE_ID), spelled out so this runs on old code.
EXCLUSIVE_ID = "ops-exclusive"


def _step(name: str, outcome: str = "ok", detail: str = "") -> Step:
    now = datetime.now(UTC)
    return Step(name=name, outcome=outcome, detail=detail, started_at=now, finished_at=now)  # type: ignore[arg-type]


@dataclass
class FakeRestore:
    """The restore's activities; `apply` of the archive runs until cancelled, then takes
    `shutdown` seconds to stop (psql being killed and reaped)."""

    integrity_ok: bool = True
    block_restore: bool = False
    shutdown: float = 1.5
    calls: list[str] = field(default_factory=list)
    restore_running: asyncio.Event = field(default_factory=asyncio.Event)
    restore_stopped_at: float | None = None
    leave_at: float | None = None

    @activity.defn(name=RESTORE_PICK)
    async def pick(self, req: PickRequest) -> PickedBackup:
        return PickedBackup(
            file_name=req.backup or "b.sql.gz", data_only=False, sha256="0", size_bytes=1
        )

    @activity.defn(name=MAINTENANCE_ENTER)
    async def enter(self, switch: MaintenanceSwitch) -> Step:
        self.calls.append("enter")
        return _step("maintenance_on")

    @activity.defn(name=MAINTENANCE_LEAVE)
    async def leave(self) -> Step:
        self.calls.append("leave")
        self.leave_at = time.monotonic()
        return _step("maintenance_off")

    @activity.defn(name=BACKUP_DUMP)
    async def dump(self, job: DumpJob) -> Step:
        return _step("dump")

    @activity.defn(name=BACKUP_VERIFY)
    async def verify(self, ref: ArchiveRef) -> Step:
        return _step("verify")

    @activity.defn(name=RESTORE_APPLY)
    async def apply(self, job: RestoreJob) -> Step:
        self.calls.append(f"apply {job.file_name}")
        if not (self.block_restore and not job.file_name.startswith("safety_")):
            return _step("restore")
        self.restore_running.set()
        try:
            while True:
                activity.heartbeat()
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            await asyncio.sleep(self.shutdown)  # psql killed, its transaction rolled back
            self.restore_stopped_at = time.monotonic()
            raise

    @activity.defn(name=RESTORE_INTEGRITY)
    async def integrity(self) -> Step:
        self.calls.append("integrity")
        if self.integrity_ok:
            return _step("integrity")
        return _step("integrity", "failed", "schema version ['x'] does not match the code's head")

    @activity.defn(name=REPORT_STORE)
    async def store(self, report: OpsReport) -> bool:
        return True

    @activity.defn(name=REPORT_NOTIFY)
    async def notify(self, report: OpsReport) -> Step:
        return _step("notify")


@asynccontextmanager
async def restore_worker(client: Client, fake: FakeRestore) -> AsyncIterator[str]:
    queue = f"saga-test-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[RestoreWorkflow],
        activities=[
            fake.pick,
            fake.enter,
            fake.leave,
            fake.dump,
            fake.verify,
            fake.apply,
            fake.integrity,
            fake.store,
            fake.notify,
        ],
        workflow_runner=SandboxedWorkflowRunner(),
        max_heartbeat_throttle_interval=timedelta(milliseconds=200),
        default_heartbeat_throttle_interval=timedelta(milliseconds=200),
    ):
        yield queue


async def test_cancelled_restore_waits_for_psql_before_maintenance_off(temporal: Client) -> None:
    fake = FakeRestore(block_restore=True)
    async with restore_worker(temporal, fake) as queue:
        handle = await temporal.start_workflow(
            RestoreWorkflow.run,
            RestoreRequest(backup="ticketero_backup_20260101_000000.sql.gz", reason="test"),
            id=run_id("saga-cancel"),
            task_queue=queue,
        )
        await asyncio.wait_for(fake.restore_running.wait(), 15)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(handle.result(), 30)
        desc = await handle.describe()
    # Not "a failed step" to carry on from: the run ends cancelled ...
    assert desc.status == WorkflowExecutionStatus.CANCELED
    # ... and maintenance went off only once the restore (psql) had really stopped.
    assert fake.restore_stopped_at is not None and fake.leave_at is not None
    assert fake.leave_at >= fake.restore_stopped_at, "maintenance_off ran while psql still ran"
    assert "integrity" not in fake.calls


async def test_rollback_whose_recheck_fails_is_not_reported_rolled_back(temporal: Client) -> None:
    fake = FakeRestore(integrity_ok=False)
    async with restore_worker(temporal, fake) as queue:
        report = await temporal.execute_workflow(
            RestoreWorkflow.run,
            RestoreRequest(backup="ticketero_backup_20260101_000000.sql.gz", reason="test"),
            id=run_id("saga-recheck"),
            task_queue=queue,
        )
    assert step(report, "compensate").outcome == "compensated"
    assert step(report, "integrity_after_rollback").outcome == "failed"
    assert report.outcome == "failed", report
    assert "NOT usable" in report.summary and "by hand" in report.summary
    # The database is not usable: maintenance mode stays on, on purpose.
    assert step(report, "maintenance_off").outcome == "skipped"
    assert "leave" not in fake.calls


def _settings(stack: Stack, tmp_path: Path) -> Settings:
    # No worker polls this queue: whatever starts stays running until terminated.
    return Settings(
        _env_file=None,
        temporal_address=stack.temporal_address,
        temporal_task_queue=f"nobody-{uuid.uuid4().hex[:8]}",
        backup_dir=tmp_path,
    )


async def _release(client: Client, ids: list[str]) -> None:
    for workflow_id in [EXCLUSIVE_ID, *ids]:
        with suppress(RPCError):
            await client.get_workflow_handle(workflow_id).terminate("test done")


async def test_two_concurrent_exclusive_starts_let_exactly_one_through(
    stack: Stack, temporal: Client, tmp_path: Path
) -> None:
    settings = _settings(stack, tmp_path)
    starts = [
        start_operation(
            temporal, settings, RESTORE_WORKFLOW, RestoreRequest(reason="a"), f"restore-{i}"
        )
        for i in range(2)
    ] + [
        start_operation(
            temporal, settings, DEPLOY_WORKFLOW, DeployRequest(version="9.9.9"), "deploy"
        )
    ]
    results = await asyncio.gather(*starts, return_exceptions=True)
    started = [r.workflow_id for r in results if not isinstance(r, BaseException)]
    try:
        assert len(started) == 1, results
        refused = [r for r in results if isinstance(r, BaseException)]
        assert all(isinstance(r, OperationConflict) for r in refused), refused
        assert all(started[0] in str(r) for r in refused), refused
    finally:
        await _release(temporal, started)


async def test_a_restore_is_refused_while_a_deploy_runs_and_after_it_may_start(
    stack: Stack, temporal: Client, tmp_path: Path
) -> None:
    settings = _settings(stack, tmp_path)
    deploy = await start_operation(
        temporal, settings, DEPLOY_WORKFLOW, DeployRequest(version="9.9.9"), "deploy"
    )
    try:
        with pytest.raises(OperationConflict, match=deploy.workflow_id):
            await start_operation(
                temporal, settings, RESTORE_WORKFLOW, RestoreRequest(reason="t"), "restore"
            )
    finally:
        await _release(temporal, [])

    async def free() -> str | None:
        try:
            started = await start_operation(
                temporal, settings, RESTORE_WORKFLOW, RestoreRequest(reason="t"), "restore"
            )
        except OperationConflict:
            return None
        return started.workflow_id

    restore = await eventually(free, timeout=10, what="the lock to be free again")
    await _release(temporal, [restore])
