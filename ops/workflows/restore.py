"""RestoreWorkflow: verify, maintenance on, safety backup, restore, integrity, reconcile,
maintenance off.

A saga: the archive is verified (checksum, full read-back) before anything is
touched, so a corrupted or tampered file ends the run with nothing changed. The
switch goes on *before* the safety backup, so no write can land between the safety
copy and the restore and be lost by both. The restore itself is one transaction
(a failed one changes nothing); a restored database that fails the integrity check
is replaced by the safety backup, and re-checked: `rolled_back` only when that passes,
else `failed`, naming what to do, with maintenance mode left on. A restored database
that passes is reconciled with the ticket workflows, still in maintenance mode
(ops/activities/reconcile.py): what could not be is listed and the run is an `alert`.
Otherwise maintenance mode is always switched off at the end; a cancelled run first
waits for the restore's psql to stop (WAIT_CANCELLATION_COMPLETED in LONG_STEP), then
switches it off.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from ops.contracts import (
        MAINTENANCE_ENTER,
        MAINTENANCE_LEAVE,
        RESTORE_APPLY,
        RESTORE_INTEGRITY,
        RESTORE_PICK,
        RESTORE_RECONCILE,
        RESTORE_WORKFLOW,
        MaintenanceSwitch,
        OpsReport,
        PickedBackup,
        PickRequest,
        ReconcileJob,
        RestoreJob,
        RestoreRequest,
        Step,
    )
    from ops.steps import (
        LONG_STEP,
        MUST_RUN,
        call,
        error_text,
        finish,
        run_step,
        take_backup,
    )

#: Patch id: a restore that passes its integrity check then reconciles the read model
#: with the ticket workflows (runs recorded before it replay without that step).
RECONCILE_PATCH = "restore-reconciles"


@workflow.defn(name=RESTORE_WORKFLOW)
class RestoreWorkflow:
    def __init__(self) -> None:
        #: Set when even the safety backup fails the integrity check: stay in maintenance.
        self._unusable = False

    @workflow.run
    async def run(self, req: RestoreRequest) -> OpsReport:
        started = workflow.now()
        steps: list[Step] = []

        def report(outcome: str, summary: str) -> OpsReport:
            return OpsReport.model_validate(
                {
                    "kind": "restore",
                    "workflow_id": workflow.info().workflow_id,
                    "outcome": outcome,
                    "summary": summary,
                    "steps": steps,
                    "started_at": started,
                    "finished_at": workflow.now(),
                }
            )

        try:
            picked = await call(
                RESTORE_PICK,
                PickRequest(backup=req.backup),
                result_type=PickedBackup,
                options=LONG_STEP,
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            steps.append(
                Step(name="verify", outcome="failed", detail=error_text(err), started_at=started)
            )
            return await finish(
                report("failed", f"restore refused, nothing touched: {error_text(err)}")
            )
        steps.append(
            Step(
                name="verify",
                outcome="ok",
                detail=f"{picked.file_name}: checksum and content verified",
                figures=picked.model_dump(),
                started_at=started,
                finished_at=workflow.now(),
            )
        )

        reason = f"restoring {picked.file_name} ({req.reason})"
        outcome, summary = "failed", "restore interrupted"
        try:
            outcome, summary = await self._replace(steps, picked, reason)
        except asyncio.CancelledError:
            # A cancelled step was waited for (WAIT_CANCELLATION_COMPLETED): psql is no
            # longer running and its transaction is rolled back. Say so, then re-raise.
            summary = (
                f"restore of {picked.file_name} cancelled (last finished step:"
                f" {steps[-1].name}); a restore in progress was stopped and its transaction"
                " rolled back; check the data (ticketero report) before relying on it"
            )
            raise
        finally:
            # Compensation that always runs, also when the run is cancelled; only a
            # database that failed its integrity check twice stays closed on purpose.
            if self._unusable:
                steps.append(
                    Step(
                        name="maintenance_off",
                        outcome="skipped",
                        detail="maintenance mode left ON: the database failed its integrity check",
                    )
                )
            else:
                switch_off = await run_step("maintenance_off", MAINTENANCE_LEAVE, options=MUST_RUN)
                steps.append(switch_off)
                if switch_off.outcome != "ok":
                    outcome = "failed"
                    summary += "; MAINTENANCE MODE IS STILL ON (switch it off by hand)"
            final = await finish(report(outcome, summary))
        return final

    async def _replace(
        self, steps: list[Step], picked: PickedBackup, reason: str
    ) -> tuple[str, str]:
        """Maintenance on, safety backup, restore, integrity (and rollback)."""
        switch_on = await run_step(
            "maintenance_on", MAINTENANCE_ENTER, MaintenanceSwitch(reason=reason), options=MUST_RUN
        )
        steps.append(switch_on)
        if switch_on.outcome != "ok":
            return "failed", "could not enter maintenance mode; nothing restored"
        safety_steps, safety = await take_backup("full", safety=True, label="safety_")
        steps.extend(safety_steps)
        if safety is None:
            return "failed", "safety backup failed; nothing restored"
        job = RestoreJob(file_name=picked.file_name, data_only=picked.data_only, reason=reason)
        restored = await run_step("restore", RESTORE_APPLY, job, options=LONG_STEP)
        steps.append(restored)
        if restored.outcome != "ok":
            return "failed", f"restore of {picked.file_name} failed, rolled back: data unchanged"
        check = await run_step("integrity", RESTORE_INTEGRITY)
        steps.append(check)
        if check.outcome != "ok":
            return await self._compensate(steps, safety, reason, picked.file_name)
        done = f"restored {picked.file_name}: {check.detail}; safety backup {safety}"
        if not workflow.patched(RECONCILE_PATCH):
            return "ok", done
        # Still in maintenance mode: nothing writes a ticket while the rows catch up.
        reconciled = await run_step(
            "reconcile",
            RESTORE_RECONCILE,
            ReconcileJob(file_name=picked.file_name),
            options=LONG_STEP,
        )
        steps.append(reconciled)
        if reconciled.outcome == "ok":
            return "ok", f"{done}; read model reconciled with the ticket workflows"
        if reconciled.outcome == "alert":
            return "alert", (
                f"{done}; some tickets could NOT be reconciled with their workflows"
                " (see the reconcile step)"
            )
        return "alert", (
            f"{done}; reconciliation with the ticket workflows FAILED ({reconciled.detail}):"
            " rows and number counters may disagree with Temporal; run the restore again"
        )

    async def _compensate(
        self, steps: list[Step], safety: str, reason: str, file_name: str
    ) -> tuple[str, str]:
        """The restored database is not usable: put the safety backup back."""
        back = await run_step(
            "compensate",
            RESTORE_APPLY,
            RestoreJob(file_name=safety, data_only=False, reason=reason),
            options=LONG_STEP,
        )
        if back.outcome == "ok":
            back = back.model_copy(update={"outcome": "compensated"})
        steps.append(back)
        if back.outcome != "compensated":
            return "failed", f"{file_name} failed the integrity check; {safety} not put back"
        recheck = await run_step("integrity_after_rollback", RESTORE_INTEGRITY)
        steps.append(recheck)
        if recheck.outcome != "ok":
            self._unusable = True
            return (
                "failed",
                f"{file_name} failed the integrity check and the database put back from"
                f" {safety} fails it too ({recheck.detail}): the database is NOT usable;"
                f" restore {safety} or an earlier backup by hand (`ticketero restore NAME`)"
                " and keep maintenance mode on until it passes",
            )
        return (
            "rolled_back",
            f"{file_name} failed the integrity check; database put back from {safety}",
        )
