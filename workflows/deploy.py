"""Deploy and rollback of the API as sagas (the money-transfer sample's shape).

DeployWorkflow: backup (child BackupWorkflow) → pull image → rolling update →
wait for health → smoke test → report. A failure from the rolling update on
is compensated: roll back to the version that ran before, wait for health
again, report `rolled_back` naming the step that failed and why. A failure
before the rolling update changes nothing and reports `failed`.

RollbackWorkflow: rolling update to a given version (default: the previous
one), wait for health, report.

Every step is an activity (`activities/deploy.py`); this module only decides,
so it is deterministic and free of I/O. Both run on the ops task queue; the
backup child runs there too (a child's default task queue is its parent's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from workflows.ops_contracts import (
        BACKUP_WORKFLOW,
        DEPLOY_WORKFLOW,
        ROLLBACK_WORKFLOW,
        BackupRequest,
        DeployRequest,
        OpsReport,
        RollbackRequest,
        Step,
    )

# --- activity names and payloads (shared with activities/deploy.py) ----------------

PREPARE = "deploy.prepare"
PULL_IMAGE = "deploy.pull_image"
ROLLING_UPDATE = "deploy.rolling_update"
WAIT_FOR_HEALTH = "deploy.wait_for_health"
SMOKE_TEST = "deploy.smoke_test"
STORE_REPORT = "deploy.store_report"

#: Error types the activities raise for failures a retry cannot fix.
ERR_IMAGE_NOT_FOUND = "ImageNotFound"
ERR_PLATFORM = "PlatformUnavailable"
ERR_HEALTH_TIMEOUT = "HealthTimeout"
ERR_SMOKE_FAILED = "SmokeTestFailed"
ERR_NO_VERSION = "NoVersionToRollBackTo"

STEP_BACKUP = "backup"
STEP_PULL = "pull image"
STEP_UPDATE = "rolling update"
STEP_HEALTH = "wait for health"
STEP_SMOKE = "smoke test"
STEP_ROLLBACK = "rollback"
STEP_HEALTH_AFTER_ROLLBACK = "wait for health after rollback"


class PlanRequest(BaseModel):
    kind: Literal["deploy", "rollback"]
    version: str | None = None


class DeployPlan(BaseModel):
    """Settings and recorded versions read once at the start, so history shows them.

    The smoke test targets the API behind `health_url` (its root), so both checks
    hit the same API, e.g. `http://lb:8080` from the worker's container.
    """

    target: str | None
    current: str | None
    previous: str | None
    image: str
    service: str
    engine: str
    health_url: str
    health_timeout_seconds: float
    smoke_base_url: str


class VersionPair(BaseModel):
    current: str | None
    previous: str | None


class Rollout(BaseModel):
    """Roll the service onto `version`; with `restore`, put the version record back to it."""

    version: str
    restore: VersionPair | None = None


class HealthWait(BaseModel):
    """Poll `url` until UP; the deadline is absolute so a retried attempt keeps it."""

    url: str
    deadline: datetime
    timeout_seconds: float


class SmokeCheck(BaseModel):
    """`key` is the Idempotency-Key: a retried attempt gets the same smoke ticket."""

    base_url: str
    key: str


class StepResult(BaseModel):
    outcome: Literal["ok", "skipped"] = "ok"
    detail: str = ""
    figures: dict[str, Any] = Field(default_factory=dict)


class Progress(BaseModel):
    """The `progress` query: steps so far and the one running."""

    running: str | None
    steps: list[Step]


def stamp(at: datetime) -> str:
    """`20261128T093000Z`: the UTC timestamp part of operations workflow ids."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ops_workflow_id(kind: str, at: datetime) -> str:
    """`<kind>-<UTC timestamp>`, e.g. `deploy-20261128T093000Z`."""
    return f"{kind}-{stamp(at)}"


# --- retry policies: each fits what can go wrong in its step -----------------------

QUICK = RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=5)
# A registry or daemon hiccup heals; an unknown tag does not.
PULL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=4,
    non_retryable_error_types=[ERR_IMAGE_NOT_FOUND, ERR_PLATFORM],
)
UPDATE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(seconds=20),
    maximum_attempts=3,
    non_retryable_error_types=[ERR_PLATFORM],
)
# The deadline is the point: a timeout is final; another attempt only follows a lost worker.
HEALTH_RETRY = RetryPolicy(maximum_attempts=3, non_retryable_error_types=[ERR_HEALTH_TIMEOUT])
# A wrong answer is an assertion (final); a refused connection or a 5xx may pass.
SMOKE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=3,
    non_retryable_error_types=[ERR_SMOKE_FAILED],
)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=6,
)


class StepFailed(Exception):
    def __init__(self, step: str, why: str) -> None:
        super().__init__(f"{step}: {why}")
        self.step = step
        self.why = why


def _why(err: BaseException) -> str:
    """The innermost useful message of an activity or child failure."""
    cause: BaseException | None = err
    message = str(err)
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.message:
            message = cause.message
        elif not isinstance(cause, ActivityError | ChildWorkflowError) and str(cause):
            message = f"{type(cause).__name__}: {cause}"
        cause = cause.__cause__
    return message


class _Saga:
    """Shared step bookkeeping of the deploy and rollback workflows."""

    kind = "deploy"

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self._running: str | None = None
        self._started = workflow.now()

    @workflow.query
    def progress(self) -> Progress:
        return Progress(running=self._running, steps=list(self._steps))

    async def _step(self, name: str, run: Callable[[], Awaitable[StepResult]]) -> StepResult:
        """Run one step, record it, and turn any failure into StepFailed."""
        started = workflow.now()
        self._running = name
        try:
            result = await run()
        except (ActivityError, ChildWorkflowError, ApplicationError) as err:
            why = _why(err)
            self._steps.append(
                Step(
                    name=name,
                    outcome="failed",
                    detail=why,
                    started_at=started,
                    finished_at=workflow.now(),
                )
            )
            raise StepFailed(name, why) from err
        finally:
            self._running = None
        self._steps.append(
            Step(
                name=name,
                outcome=result.outcome,
                detail=result.detail,
                figures=result.figures,
                started_at=started,
                finished_at=workflow.now(),
            )
        )
        return result

    async def _plan(self, request: PlanRequest) -> DeployPlan | None:
        """The plan, or None (with a failed step) when the versions cannot be read."""
        try:
            plan: DeployPlan = await workflow.execute_activity(
                PREPARE,
                request,
                result_type=DeployPlan,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=QUICK,
            )
        except ActivityError as err:
            self._steps.append(Step(name="prepare", outcome="failed", detail=_why(err)))
            return None
        return plan

    async def _rollout(self, rollout: Rollout) -> StepResult:
        result: StepResult = await workflow.execute_activity(
            ROLLING_UPDATE,
            rollout,
            result_type=StepResult,
            start_to_close_timeout=timedelta(minutes=12),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=UPDATE_RETRY,
        )
        return result

    async def _health(self, plan: DeployPlan) -> StepResult:
        timeout = plan.health_timeout_seconds
        wait = HealthWait(
            url=plan.health_url,
            deadline=workflow.now() + timedelta(seconds=timeout),
            timeout_seconds=timeout,
        )
        result: StepResult = await workflow.execute_activity(
            WAIT_FOR_HEALTH,
            wait,
            result_type=StepResult,
            start_to_close_timeout=timedelta(seconds=timeout + 30),
            heartbeat_timeout=timedelta(seconds=15),
            retry_policy=HEALTH_RETRY,
        )
        return result

    async def _finish(
        self, outcome: Literal["ok", "alert", "failed", "rolled_back"], summary: str
    ) -> OpsReport:
        """Build the report and store it in ops_run; a store failure does not change it."""
        report = OpsReport(
            kind=self.kind,
            workflow_id=workflow.info().workflow_id,
            outcome=outcome,
            summary=summary,
            steps=list(self._steps),
            started_at=self._started,
            finished_at=workflow.now(),
        )
        try:
            await workflow.execute_activity(
                STORE_REPORT,
                report,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=STORE_RETRY,
            )
        except ActivityError as err:
            workflow.logger.warning("report of %s not stored: %s", report.workflow_id, _why(err))
        return report


@workflow.defn(name=DEPLOY_WORKFLOW)
class DeployWorkflow(_Saga):
    """Roll a new API version out; undo it when it does not prove healthy."""

    kind = "deploy"

    @workflow.run
    async def run(self, request: DeployRequest) -> OpsReport:
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
class RollbackWorkflow(_Saga):
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
