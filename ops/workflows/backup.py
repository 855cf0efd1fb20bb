"""BackupWorkflow: dump, verify, prune, report.

A failed backup stores its report and then fails the run, so the schedule's
pause_on_failure stops further attempts until an operator looks.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from ops.contracts import (
        BACKUP_FAILED,
        BACKUP_RETENTION,
        BACKUP_WORKFLOW,
        BackupRequest,
        OpsReport,
    )
    from ops.steps import finish, outcome_of, run_step, take_backup


@workflow.defn(name=BACKUP_WORKFLOW)
class BackupWorkflow:
    @workflow.run
    async def run(self, req: BackupRequest) -> OpsReport:
        started = workflow.now()
        steps, file_name = await take_backup(req.variant)
        if file_name is not None:
            pruned = await run_step("retention", BACKUP_RETENTION)
            if pruned.outcome == "failed":  # the backup is good; the folder needs a look
                pruned = pruned.model_copy(update={"outcome": "alert"})
            steps.append(pruned)
        outcome = outcome_of(steps)
        dump_figures = steps[0].figures
        if file_name is None:
            summary = f"backup failed ({req.reason}): {steps[-1].detail}"
        else:
            summary = (
                f"backup {file_name} ({dump_figures.get('bytes', '?')} bytes, {req.variant},"
                f" {req.reason}) verified"
            )
            if len(steps) > 2:
                summary += f"; {len(steps[2].figures.get('deleted', []))} old file(s) pruned"
        report = await finish(
            OpsReport.model_validate(
                {
                    "kind": "backup",
                    "workflow_id": workflow.info().workflow_id,
                    "outcome": outcome,
                    "summary": summary,
                    "steps": steps,
                    "started_at": started,
                    "finished_at": workflow.now(),
                }
            )
        )
        if file_name is None:
            # Fail the run (after storing the report): schedules pause on failure.
            raise ApplicationError(summary, report, type=BACKUP_FAILED, non_retryable=True)
        return report
