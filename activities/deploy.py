"""Deploy and rollback activities: every step that touches the world.

The HTTP checks (`probe_health`, `wait_until_up`, `run_smoke_test`) are plain
functions so the operator CLI runs exactly the same checks as a deploy.
Failures a retry cannot fix become non-retryable ApplicationErrors with the
types the workflow's retry policies name; anything else stays retryable.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.platform import (
    CommandResult,
    PlatformDriver,
    PlatformError,
    VersionRecord,
    VersionStore,
    make_driver,
)
from db import ops as ops_runs
from db.engine import make_engine
from settings import Settings
from workflows.deploy import (
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
    PlanRequest,
    Rollout,
    SmokeCheck,
    StepResult,
)
from workflows.ops_contracts import OpsReport

T = TypeVar("T")

HEARTBEAT_EVERY = 5.0
HEALTH_POLL_INTERVAL = 1.0
HEALTH_REQUEST_TIMEOUT = 5.0
SMOKE_BRANCH = "Smoke Test"
SMOKE_QUEUE = "CAJA"
HEALTH_SUFFIX = "/actuator/health"


# --- checks shared with the CLI ---------------------------------------------------


def api_base(health_url: str) -> str | None:
    """The API root behind a `.../actuator/health` URL (None for another shape)."""
    url = health_url.rstrip("/")
    return url[: -len(HEALTH_SUFFIX)] if url.endswith(HEALTH_SUFFIX) else None


def smoke_base_url(settings: Settings) -> str:
    """The API whose health a deploy checks (e.g. `http://lb:8080` from the worker's
    container); PUBLIC_BASE_URL only when the health URL has another shape."""
    return api_base(settings.deploy_health_url) or settings.public_base_url


class HealthAnswer(BaseModel):
    """One GET of the actuator health: UP only on 200 with `"status": "UP"`."""

    up: bool
    status_code: int | None = None
    status: str | None = None
    components: dict[str, str] = Field(default_factory=dict)
    error: str | None = None

    def describe(self) -> str:
        if self.error:
            return self.error
        parts = ", ".join(f"{name} {state}" for name, state in self.components.items())
        return f"HTTP {self.status_code} {self.status or '?'}" + (f" ({parts})" if parts else "")


class HealthTimeoutError(Exception):
    def __init__(self, attempts: int, last: HealthAnswer) -> None:
        super().__init__(f"not UP after {attempts} attempts; last: {last.describe()}")
        self.attempts = attempts
        self.last = last


class SmokeFailure(Exception):
    """The API answered, wrongly: an assertion failure no retry will fix."""


class SmokeUnavailable(Exception):
    """The API could not be reached or answered 5xx: it may pass on a retry."""


async def probe_health(
    client: httpx.AsyncClient,
    url: str,
    timeout: float | None = None,  # noqa: ASYNC109 - per-request budget, not a deadline
) -> HealthAnswer:
    """One GET; a transport error is an answer too (not UP, with the reason)."""
    try:
        if timeout is None:
            resp = await client.get(url)
        else:
            resp = await client.get(url, timeout=timeout)
    except httpx.HTTPError as err:
        return HealthAnswer(up=False, error=_error_text(err))
    return _health_answer(resp)


async def wait_until_up(
    url: str,
    deadline: datetime,
    on_attempt: Callable[[int, HealthAnswer], None] | None = None,
    interval: float = HEALTH_POLL_INTERVAL,
) -> tuple[int, float, HealthAnswer]:
    """Poll `url` until UP (attempts, seconds, answer) or raise HealthTimeoutError."""
    started = time.monotonic()
    attempts = 0
    async with httpx.AsyncClient() as client:
        while True:
            remaining = (deadline - datetime.now(UTC)).total_seconds()
            timeout = max(0.5, min(HEALTH_REQUEST_TIMEOUT, remaining))
            attempts += 1
            answer = await probe_health(client, url, timeout)
            if on_attempt is not None:
                on_attempt(attempts, answer)
            if answer.up:
                return attempts, round(time.monotonic() - started, 3), answer
            remaining = (deadline - datetime.now(UTC)).total_seconds()
            if remaining <= 0:
                raise HealthTimeoutError(attempts, answer)
            await asyncio.sleep(min(interval, remaining))


def _health_answer(resp: httpx.Response) -> HealthAnswer:
    try:
        body = resp.json()
    except ValueError:
        body = None
    status = body.get("status") if isinstance(body, dict) else None
    components: dict[str, str] = {}
    if isinstance(body, dict) and isinstance(body.get("components"), dict):
        for name, part in body["components"].items():
            if isinstance(part, dict):
                components[str(name)] = str(part.get("status"))
    return HealthAnswer(
        up=resp.status_code == 200 and status == "UP",
        status_code=resp.status_code,
        status=status if isinstance(status, str) else None,
        components=components,
    )


def _error_text(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def smoke_national_id(key: str) -> str:
    """A 12-digit national id derived from the smoke test's key: fresh per run, stable on retry."""
    digest = int(hashlib.sha256(key.encode()).hexdigest(), 16)
    return str(10**11 + digest % (9 * 10**11))


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(body)[:200]


async def _call(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    try:
        resp = await client.request(method, url, **kw)
    except httpx.HTTPError as err:
        raise SmokeUnavailable(f"{method} {url}: {_error_text(err)}") from err
    if resp.status_code >= 500:
        raise SmokeUnavailable(f"{method} {url} answered {resp.status_code}: {_message(resp)}")
    return resp


async def run_smoke_test(
    base_url: str,
    key: str,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - per-request budget
) -> dict[str, Any]:
    """The runbook's functional test: health UP, take a ticket (201), cancel it.

    The ticket is at a dedicated branch ("Smoke Test") for a fresh 12-digit
    id, with `key` as its Idempotency-Key, so a retry finds the same ticket.
    """
    base = base_url.rstrip("/")
    figures: dict[str, Any] = {"base_url": base, "branch": SMOKE_BRANCH}
    async with httpx.AsyncClient(timeout=timeout) as client:
        started = time.monotonic()
        health = await _call(client, "GET", f"{base}/actuator/health")
        answer = _health_answer(health)
        if not answer.up:
            raise SmokeFailure(f"GET /actuator/health answered {answer.describe()}, expected UP")
        figures["health_ms"] = round((time.monotonic() - started) * 1000, 1)

        started = time.monotonic()
        body = {
            "nationalId": smoke_national_id(key),
            "branchOffice": SMOKE_BRANCH,
            "queue": SMOKE_QUEUE,
        }
        created = await _call(
            client, "POST", f"{base}/api/tickets", json=body, headers={"Idempotency-Key": key}
        )
        if created.status_code != 201:
            raise SmokeFailure(
                f"POST /api/tickets answered {created.status_code}, expected 201: "
                f"{_message(created)}"
            )
        ticket = created.json() if _is_json(created) else {}
        reference = ticket.get("reference") if isinstance(ticket, dict) else None
        if not reference:
            raise SmokeFailure("POST /api/tickets answered 201 without a ticket reference")
        figures.update(
            create_ms=round((time.monotonic() - started) * 1000, 1),
            ticket_number=ticket.get("number"),
            reference=reference,
        )

        started = time.monotonic()
        cancelled = await _call(client, "POST", f"{base}/api/tickets/{reference}/cancel")
        status = cancelled.json().get("status") if _is_json(cancelled) else None
        already = cancelled.status_code == 409 and (
            _is_json(cancelled) and cancelled.json().get("currentStatus") == "CANCELLED"
        )
        if not ((cancelled.status_code == 200 and status == "CANCELLED") or already):
            raise SmokeFailure(
                f"POST /api/tickets/{reference}/cancel answered {cancelled.status_code}, "
                f"expected 200 CANCELLED: {_message(cancelled)}"
            )
        figures["cancel_ms"] = round((time.monotonic() - started) * 1000, 1)
    return figures


def _is_json(resp: httpx.Response) -> bool:
    try:
        return isinstance(resp.json(), dict)
    except ValueError:
        return False


# --- activities -------------------------------------------------------------------


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
            type=ERR_PLATFORM if not err.retryable else "PlatformCommandFailed",
            non_retryable=not err.retryable,
        )
    return ApplicationError(
        str(err),
        {"output": err.result.output},
        type=permanent_type if not err.retryable else "PlatformCommandFailed",
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
            raise ApplicationError(str(err), type="SmokeTestUnavailable") from err
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
