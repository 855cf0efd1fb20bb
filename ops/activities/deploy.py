"""Deploy and rollback activities: every step that touches the world.

The HTTP checks (`probe_health`, `wait_until_up`, `run_smoke_test`) live in
`ops/checks.py`, so the operator CLI runs exactly the same checks as a deploy.
Failures a retry cannot fix become non-retryable ApplicationErrors with the
types the workflow's retry policies name; anything else stays retryable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.engine import make_engine
from ops import runs as ops_runs
from ops.activities.platform import (
    CommandResult,
    PlatformDriver,
    PlatformError,
    VersionRecord,
    VersionStore,
    make_driver,
)
from ops.checks import (
    SMOKE_BRANCH,
    HealthAnswer,
    HealthTimeoutError,
    SmokeFailure,
    SmokeUnavailable,
    run_smoke_test,
    smoke_base_url,
    wait_until_up,
)
from ops.contracts import (
    ERR_HEALTH_TIMEOUT,
    ERR_IMAGE_NOT_FOUND,
    ERR_PLATFORM,
    ERR_SMOKE_FAILED,
    PREPARE,
    PULL_IMAGE,
    ROLLING_UPDATE,
    SMOKE_TEST,
    STORE_REPORT,
    WAIT_FOR_HEALTH,
    DeployPlan,
    HealthWait,
    OpsReport,
    PlanRequest,
    Rollout,
    SmokeCheck,
    StepResult,
)
from settings import Settings

T = TypeVar("T")

HEARTBEAT_EVERY = 5.0
#: Error types of failures a retry may fix (the final ones are in ops.contracts).
PLATFORM_COMMAND_FAILED = "PlatformCommandFailed"
SMOKE_TEST_UNAVAILABLE = "SmokeTestUnavailable"


async def _heartbeating(work: Awaitable[T]) -> T:
    """Await `work`, heartbeating meanwhile, so a lost worker is noticed in seconds."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _platform_failure(err: PlatformError, permanent_type: str) -> ApplicationError:
    if err.result is None:  # the command did not run to the end
        return ApplicationError(
            str(err),
            type=ERR_PLATFORM if not err.retryable else PLATFORM_COMMAND_FAILED,
            non_retryable=not err.retryable,
        )
    return ApplicationError(
        str(err),
        {"output": err.result.output},
        type=permanent_type if not err.retryable else PLATFORM_COMMAND_FAILED,
        non_retryable=not err.retryable,
    )


def _command_figures(result: CommandResult) -> dict[str, Any]:
    return {"command": " ".join(result.argv), "seconds": result.seconds}


class DeployActivities:
    """Holds the settings, the platform driver and the version record of this host."""

    def __init__(
        self,
        settings: Settings,
        *,
        driver: PlatformDriver | None = None,
        store: VersionStore | None = None,
    ) -> None:
        self._settings = settings
        self._store = store or VersionStore.for_settings(settings)
        self._driver = driver or make_driver(settings, self._store)
        self._engine: AsyncEngine | None = None

    @activity.defn(name=PREPARE)
    async def prepare(self, request: PlanRequest) -> DeployPlan:
        """Read the recorded versions and the deploy settings once, into history."""
        current = await self._driver.current_version()
        previous = await self._driver.previous_version()
        target = request.version or (previous if request.kind == "rollback" else None)
        s = self._settings
        return DeployPlan(
            target=target,
            current=current,
            previous=previous,
            image=s.deploy_image,
            service=s.deploy_service,
            engine=s.container_engine,
            health_url=s.deploy_health_url,
            health_timeout_seconds=s.deploy_health_timeout_seconds,
            smoke_base_url=smoke_base_url(s),
        )

    @activity.defn(name=PULL_IMAGE)
    async def pull_image(self, version: str) -> StepResult:
        try:
            result = await _heartbeating(self._driver.pull_image(version))
        except PlatformError as err:
            raise _platform_failure(err, ERR_IMAGE_NOT_FOUND) from err
        if not result.argv:
            return StepResult(outcome="skipped", detail=result.output)
        if self._settings.container_engine == "none":  # the process driver installed a release
            return StepResult(detail=result.output, figures=_command_figures(result))
        return StepResult(
            detail=f"pulled {self._settings.deploy_image}:{version}",
            figures=_command_figures(result),
        )

    @activity.defn(name=ROLLING_UPDATE)
    async def rolling_update(self, rollout: Rollout) -> StepResult:
        """Recreate the service on the version; on a compensation, restore the record."""
        try:
            result = await _heartbeating(self._driver.rolling_update(rollout.version))
        except PlatformError as err:
            raise _platform_failure(err, ERR_PLATFORM) from err
        if rollout.restore is not None:
            self._store.save(
                VersionRecord(current=rollout.restore.current, previous=rollout.restore.previous)
            )
        record = self._store.load()
        figures = {"current": record.current, "previous": record.previous}
        if not result.argv:
            return StepResult(outcome="skipped", detail=result.output, figures=figures)
        if result.processes:  # the process driver: each process's old and new pid and version
            return StepResult(
                detail=result.output,
                figures={**_command_figures(result), **figures, "processes": result.processes},
            )
        return StepResult(
            detail=f"{self._settings.deploy_service} now runs "
            f"{self._settings.deploy_image}:{rollout.version}",
            figures={**_command_figures(result), **figures},
        )

    @activity.defn(name=WAIT_FOR_HEALTH)
    async def wait_for_health(self, wait: HealthWait) -> StepResult:
        """Poll until UP or the deadline; heartbeats carry the last answer for the UI."""

        def beat(attempt: int, answer: HealthAnswer) -> None:
            activity.heartbeat({"attempt": attempt, "last": answer.describe()})

        try:
            attempts, seconds, answer = await wait_until_up(wait.url, wait.deadline, beat)
        except HealthTimeoutError as err:
            raise ApplicationError(
                f"{wait.url} did not report UP within {wait.timeout_seconds:g}s "
                f"({err.attempts} attempts); last: {err.last.describe()}",
                type=ERR_HEALTH_TIMEOUT,
                non_retryable=True,
            ) from err
        return StepResult(
            detail=f"UP after {seconds:.1f}s",
            figures={"attempts": attempts, "seconds": seconds, "components": answer.components},
        )

    @activity.defn(name=SMOKE_TEST)
    async def smoke_test(self, check: SmokeCheck) -> StepResult:
        try:
            figures = await run_smoke_test(check.base_url, check.key)
        except SmokeFailure as err:
            raise ApplicationError(str(err), type=ERR_SMOKE_FAILED, non_retryable=True) from err
        except SmokeUnavailable as err:
            raise ApplicationError(str(err), type=SMOKE_TEST_UNAVAILABLE) from err
        return StepResult(
            detail=f"ticket {figures.get('ticket_number')} created and cancelled at {SMOKE_BRANCH}",
            figures=figures,
        )

    @activity.defn(name=STORE_REPORT)
    async def store_report(self, report: OpsReport) -> None:
        if self._engine is None:
            self._engine = make_engine(self._settings, pool_size=1)
        await ops_runs.store_report(self._engine, report)


def deploy_activities(settings: Settings) -> list[Callable[..., Any]]:
    """The deploy and rollback activities, for the ops worker's `activities=`."""
    acts = DeployActivities(settings)
    return [
        acts.prepare,
        acts.pull_image,
        acts.rolling_update,
        acts.wait_for_health,
        acts.smoke_test,
        acts.store_report,
    ]
