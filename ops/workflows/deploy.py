"""Deploy and rollback of the API as sagas (the money-transfer sample's shape).

DeployWorkflow: backup (child BackupWorkflow) → pull image → rolling update →
wait for health → smoke test → report. A failure from the rolling update on
is compensated: roll back to the version that ran before, wait for health
again, report `rolled_back` naming the step that failed and why. A failure
before the rolling update changes nothing and reports `failed`.

RollbackWorkflow: rolling update to a given version (default: the previous
one), wait for health, report.

Every step is an activity (`ops/activities/deploy.py`); this module only decides,
so it is deterministic and free of I/O. Both run on the ops task queue; the
backup child runs there too (a child's default task queue is its parent's).
The step bookkeeping both share is `ops/workflows/saga.py`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from ops.contracts import (
        BACKUP_WORKFLOW,
        DEPLOY_WORKFLOW,
        PULL_IMAGE,
        ROLLBACK_WORKFLOW,
        SMOKE_TEST,
        STEP_BACKUP,
        STEP_HEALTH,
        STEP_HEALTH_AFTER_ROLLBACK,
        STEP_PULL,
        STEP_ROLLBACK,
        STEP_SMOKE,
        STEP_UPDATE,
        BackupRequest,
        DeployPlan,
        DeployRequest,
        OpsReport,
        PlanRequest,
        RollbackRequest,
        Rollout,
        SmokeCheck,
        Step,
        StepResult,
        VersionPair,
    )
    from ops.workflows.saga import PULL_RETRY, SMOKE_RETRY, Saga, StepFailed


@workflow.defn(name=DEPLOY_WORKFLOW)
class DeployWorkflow(Saga):
    """Roll a new API version out; undo it when it does not prove healthy."""

    kind = "deploy"

    @workflow.run
    async def run(self, request: DeployRequest) -> OpsReport:
        try:
            return await self._deploy(request)
        except asyncio.CancelledError:
            step = self._steps[-1].name if self._steps else "prepare"
            await self._finish(
                "failed",
                f"deploy {request.version} cancelled at {step}: check the running version"
                " (`ticketero rollback` puts the previous one back)",
            )
            raise

    async def _deploy(self, request: DeployRequest) -> OpsReport:
        version = request.version
        plan = await self._plan(PlanRequest(kind="deploy", version=version))
        if plan is None:
            why = self._steps[-1].detail
            return await self._finish("failed", f"deploy {version} not started: {why}")
        try:
            await self._step(STEP_BACKUP, lambda: self._backup(version))
            await self._step(STEP_PULL, lambda: self._pull(version))
        except StepFailed as failed:
            return await self._finish(
                "failed",
                f"deploy {version} failed at {failed.step}: {failed.why}; nothing was changed",
            )
        try:
            await self._step(STEP_UPDATE, lambda: self._rollout(Rollout(version=version)))
            await self._step(STEP_HEALTH, lambda: self._health(plan))
            await self._step(STEP_SMOKE, lambda: self._smoke(plan))
        except StepFailed as failed:
            return await self._compensate(plan, failed)
        was = plan.current or "unknown"
        return await self._finish("ok", f"deployed {version} (was {was}); healthy, smoke test ok")

    async def _compensate(self, plan: DeployPlan, failed: StepFailed) -> OpsReport:
        """Put the version that ran before back, and its version record with it."""
        version = plan.target
        what = f"deploy {version} failed at {failed.step}: {failed.why}"
        target = plan.current if plan.current != version else None
        if target is None:
            reason = (
                f"{version} was already running"
                if plan.current == version
                else "no previous version recorded"
            )
            self._steps.append(
                Step(
                    name=STEP_ROLLBACK,
                    outcome="skipped",
                    detail=f"nothing to roll back to: {reason}",
                )
            )
            return await self._finish("failed", f"{what}; not rolled back ({reason})")
        restore = VersionPair(current=plan.current, previous=plan.previous)
        try:
            await self._step(
                STEP_ROLLBACK, lambda: self._rollout(Rollout(version=target, restore=restore))
            )
            self._mark_compensated(STEP_UPDATE)
            await self._step(STEP_HEALTH_AFTER_ROLLBACK, lambda: self._health(plan))
        except StepFailed as again:
            return await self._finish(
                "failed", f"{what}; rollback to {target} failed at {again.step}: {again.why}"
            )
        return await self._finish("rolled_back", f"{what}; rolled back to {target}")

    def _mark_compensated(self, name: str) -> None:
        for i, step in enumerate(self._steps):
            if step.name == name and step.outcome == "ok":
                self._steps[i] = step.model_copy(update={"outcome": "compensated"})

    async def _backup(self, version: str) -> StepResult:
        child_id = f"{workflow.info().workflow_id}-backup"
        report = await workflow.execute_child_workflow(
            BACKUP_WORKFLOW,
            BackupRequest(reason=f"pre-deploy {version}"),
            id=child_id,
            result_type=OpsReport,
            execution_timeout=timedelta(hours=2),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        if report.outcome == "failed":
            raise ApplicationError(f"backup {child_id} failed: {report.summary}")
        return StepResult(
            detail=report.summary, figures={"workflow_id": child_id, "outcome": report.outcome}
        )

    async def _pull(self, version: str) -> StepResult:
        result: StepResult = await workflow.execute_activity(
            PULL_IMAGE,
            version,
            result_type=StepResult,
            start_to_close_timeout=timedelta(minutes=16),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=PULL_RETRY,
        )
        return result

    async def _smoke(self, plan: DeployPlan) -> StepResult:
        result: StepResult = await workflow.execute_activity(
            SMOKE_TEST,
            SmokeCheck(base_url=plan.smoke_base_url, key=f"smoke-{workflow.info().workflow_id}"),
            result_type=StepResult,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=SMOKE_RETRY,
        )
        return result


@workflow.defn(name=ROLLBACK_WORKFLOW)
class RollbackWorkflow(Saga):
    """Put a given version (default: the previous one) back and check it is healthy."""

    kind = "rollback"

    @workflow.run
    async def run(self, request: RollbackRequest) -> OpsReport:
        plan = await self._plan(PlanRequest(kind="rollback", version=request.version))
        if plan is None:
            return await self._finish("failed", f"rollback not started: {self._steps[-1].detail}")
        target = plan.target
        if target is None:
            self._steps.append(
                Step(name=STEP_ROLLBACK, outcome="failed", detail="no previous version recorded")
            )
            return await self._finish(
                "failed", "rollback failed: no version given and no previous version recorded"
            )
        try:
            await self._step(STEP_ROLLBACK, lambda: self._rollout(Rollout(version=target)))
            await self._step(STEP_HEALTH, lambda: self._health(plan))
        except StepFailed as failed:
            return await self._finish(
                "failed", f"rollback to {target} failed at {failed.step}: {failed.why}"
            )
        was = plan.current or "unknown"
        return await self._finish("ok", f"rolled back to {target} (was {was}); healthy")


#: Registered on the ops worker (ops/worker.py) with `deploy_activities(settings)`.
DEPLOY_WORKFLOWS: list[type] = [DeployWorkflow, RollbackWorkflow]
