"""Stand-ins for the other engineer's BackupWorkflow, registered under its name in test workers."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from ops.contracts import BACKUP_WORKFLOW, BackupRequest, OpsReport


@workflow.defn(name=BACKUP_WORKFLOW)
class StubBackupWorkflow:
    """A backup that succeeds at once (the deploy only needs its report)."""

    @workflow.run
    async def run(self, request: BackupRequest) -> OpsReport:
        now = workflow.now()
        return OpsReport(
            kind="backup",
            workflow_id=workflow.info().workflow_id,
            outcome="ok",
            summary=f"stub backup ({request.reason})",
            started_at=now,
            finished_at=now,
        )


@workflow.defn(name=BACKUP_WORKFLOW)
class FailingBackupWorkflow:
    """A backup that reports failure: the deploy must stop before touching anything."""

    @workflow.run
    async def run(self, request: BackupRequest) -> OpsReport:
        now = workflow.now()
        return OpsReport(
            kind="backup",
            workflow_id=workflow.info().workflow_id,
            outcome="failed",
            summary="pg_dump exited 1: disk full",
            started_at=now,
            finished_at=now,
        )
