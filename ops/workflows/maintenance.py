"""MaintenanceWorkflow: the runbook's daily, weekly and monthly routines, step by step.

Every step is its own activity (its own retries, its own line in the Temporal UI);
a failing step does not stop the others, it is reported. One dump a night: the
backup schedule (02:30) takes it; the daily routine (03:00) does not dump again, its
`backup` step verifies the newest regular backup (checksum and full read-back, the
restore's own pick) and alerts when it is missing, corrupt or older than a day.
(Runs recorded before that took their own backup as a child BackupWorkflow; they
replay that way, behind `workflow.patched`.)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from ops.contracts import (
        BACKUP_NAME,
        BACKUP_WORKFLOW,
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
        MAINTENANCE_WORKFLOW,
        PULL_IMAGES,
        RESTORE_PICK,
        ROTATE_LOGS,
        BackupRequest,
        LogRotation,
        MaintenanceRequest,
        OpsReport,
        PickedBackup,
        PickRequest,
        Step,
    )
    from ops.steps import (
        LONG_STEP,
        SHORT_STEP,
        StepOptions,
        call,
        error_text,
        finish,
        outcome_of,
        run_step,
    )

BACKUP_STEP = "backup"
#: The daily routine checks the scheduled backup instead of dumping a second time.
PATCH_ONE_DUMP = "daily-checks-the-scheduled-backup"
#: The 02:30 backup is 30 min old at 03:00; older than this, a night was missed.
MAX_BACKUP_AGE = timedelta(hours=26)
#: Database-wide rewrites: long, heartbeating, retried.
DB_HEAVY = replace(LONG_STEP, start_to_close=timedelta(hours=3))
#: `docker pull` heartbeats; a lost worker is noticed in a minute, not an hour.
PULL = replace(SHORT_STEP, start_to_close=timedelta(hours=1), heartbeat=timedelta(minutes=1))
#: (step name, activity or BACKUP_STEP, options) per routine, in runbook order.
ROUTINES: dict[str, list[tuple[str, str, StepOptions]]] = {
    "daily": [
        ("health", CHECK_HEALTH, SHORT_STEP),
        ("disk", CHECK_DISK, SHORT_STEP),
        ("error_logs", CHECK_ERROR_LOGS, SHORT_STEP),
        (BACKUP_STEP, BACKUP_STEP, LONG_STEP),
        ("log_cleanup", CLEAN_OLD_LOGS, SHORT_STEP),
    ],
    "weekly": [
        ("analyze", DB_ANALYZE, DB_HEAVY),
        ("reindex", DB_REINDEX, DB_HEAVY),
        ("purge_messages", DB_PURGE_MESSAGES, SHORT_STEP),
        ("db_size", DB_SIZE, SHORT_STEP),
    ],
    "monthly": [
        ("vacuum_full", DB_VACUUM_FULL, DB_HEAVY),
        ("log_rotation", ROTATE_LOGS, SHORT_STEP),
        ("image_update", PULL_IMAGES, PULL),
        ("tls_expiry", CHECK_TLS, SHORT_STEP),
    ],
}


@workflow.defn(name=MAINTENANCE_WORKFLOW)
class MaintenanceWorkflow:
    @workflow.run
    async def run(self, req: MaintenanceRequest) -> OpsReport:
        started = workflow.now()
        steps: list[Step] = []
        for name, activity, options in ROUTINES[req.routine]:
            if activity == BACKUP_STEP and workflow.patched(PATCH_ONE_DUMP):
                steps.append(await self._check_backup())
            elif activity == BACKUP_STEP:
                steps.append(await self._backup(req.routine))
            elif activity == ROTATE_LOGS:
                month = LogRotation(month=workflow.now().strftime("%Y%m"))
                steps.append(await run_step(name, activity, month, options=options))
            else:
                steps.append(await run_step(name, activity, options=options))
        outcome = outcome_of(steps)
        flagged = [s.name for s in steps if s.outcome in ("alert", "failed")]
        summary = f"{req.routine} maintenance: {len(steps)} steps, " + (
            f"{outcome} on {', '.join(flagged)}" if flagged else "all ok"
        )
        return await finish(
            OpsReport.model_validate(
                {
                    "kind": f"maintenance_{req.routine}",
                    "workflow_id": workflow.info().workflow_id,
                    "outcome": outcome,
                    "summary": summary,
                    "steps": steps,
                    "started_at": started,
                    "finished_at": workflow.now(),
                }
            )
        )

    @staticmethod
    async def _check_backup() -> Step:
        """The night's backup, taken by the backup schedule: there, intact and recent."""
        started = workflow.now()

        def step(outcome: str, detail: str, figures: dict[str, object]) -> Step:
            return Step.model_validate(
                {
                    "name": BACKUP_STEP,
                    "outcome": outcome,
                    "detail": detail,
                    "figures": figures,
                    "started_at": started,
                    "finished_at": workflow.now(),
                }
            )

        try:
            picked = await call(
                RESTORE_PICK, PickRequest(), result_type=PickedBackup, options=LONG_STEP
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            return step(
                "alert",
                f"no verified backup: {error_text(err)}; is the backup schedule paused?",
                {},
            )
        match = BACKUP_NAME.fullmatch(picked.file_name)
        taken = (
            datetime.strptime(match.group("stamp"), "%Y%m%d_%H%M%S").replace(tzinfo=UTC)
            if match
            else None
        )
        age_hours = (workflow.now() - taken).total_seconds() / 3600 if taken else None
        figures: dict[str, object] = {
            "file": picked.file_name,
            "bytes": picked.size_bytes,
            "sha256": picked.sha256,
            "age_hours": round(age_hours, 1) if age_hours is not None else None,
        }
        if age_hours is None or age_hours > MAX_BACKUP_AGE.total_seconds() / 3600:
            return step(
                "alert",
                f"newest backup {picked.file_name} is older than"
                f" {MAX_BACKUP_AGE.total_seconds() / 3600:g} h:"
                " the backup schedule did not run (paused after a failure?)",
                figures,
            )
        return step("ok", f"{picked.file_name} verified ({age_hours:.1f} h old)", figures)

    @staticmethod
    async def _backup(routine: str) -> Step:
        """The daily backup, as a child workflow (its own report, its own UI entry)."""
        started = workflow.now()
        child_id = f"{workflow.info().workflow_id}-backup"
        try:
            child: OpsReport = await workflow.execute_child_workflow(
                BACKUP_WORKFLOW,
                BackupRequest(reason=f"{routine} maintenance"),
                id=child_id,
                result_type=OpsReport,
            )
        except ChildWorkflowError as err:
            return Step(
                name=BACKUP_STEP,
                outcome="failed",
                detail=error_text(err),
                figures={"workflow_id": child_id},
                started_at=started,
                finished_at=workflow.now(),
            )
        dump = child.steps[0].figures if child.steps else {}
        return Step(
            name=BACKUP_STEP,
            outcome="ok" if child.outcome == "ok" else "alert",
            detail=child.summary,
            figures={"workflow_id": child_id, "file": dump.get("file"), "bytes": dump.get("bytes")},
            started_at=started,
            finished_at=workflow.now(),
        )
