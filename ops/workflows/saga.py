"""What the deploy and rollback workflows share: their retry policies and `Saga`,
the step bookkeeping (the `progress` query, failures turned into StepFailed, the
plan, rollout and health steps, the report stored in ops_run).

Runs inside workflows, so it is deterministic and imports no I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    is_cancelled_exception,
)

with workflow.unsafe.imports_passed_through():
    from ops.contracts import (
        ERR_HEALTH_TIMEOUT,
        ERR_IMAGE_NOT_FOUND,
        ERR_PLATFORM,
        ERR_SMOKE_FAILED,
        PREPARE,
        PROGRESS_QUERY,
        ROLLING_UPDATE,
        STORE_REPORT,
        WAIT_FOR_HEALTH,
        DeployPlan,
        HealthWait,
        OpsReport,
        PlanRequest,
        Progress,
        Rollout,
        Step,
        StepResult,
    )
    from ops.steps import mark_outcome


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


class Saga:
    """Shared step bookkeeping of the deploy and rollback workflows."""

    kind = "deploy"

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self._running: str | None = None
        self._started = workflow.now()

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> Progress:
        return Progress(running=self._running, steps=list(self._steps))

    async def _step(self, name: str, run: Callable[[], Awaitable[StepResult]]) -> StepResult:
        """Run one step, record it, and turn any failure into StepFailed."""
        started = workflow.now()
        self._running = name
        try:
            result = await run()
        except (ActivityError, ChildWorkflowError, ApplicationError) as err:
            if is_cancelled_exception(err):
                # A cancelled run is not a failed step to compensate and carry on from.
                self._steps.append(
                    Step(
                        name=name,
                        outcome="failed",
                        detail="cancelled",
                        started_at=started,
                        finished_at=workflow.now(),
                    )
                )
                raise
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
            # A cancelled rollout is waited for: compose must have stopped before anything else.
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
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
        mark_outcome(report)
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
