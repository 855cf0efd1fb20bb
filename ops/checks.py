"""The health and smoke checks a deploy runs, shared with the operator CLI.

`probe_health`, `wait_until_up` and `run_smoke_test` are plain functions: the deploy
activities (`ops/activities/deploy.py`) and `ticketero health|verify-health|smoke-test`
(`cli/checks.py`) run exactly the same checks, so "the smoke test passed" means the
same thing by hand and in a deploy.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, Field

from settings import Settings

HEALTH_POLL_INTERVAL = 1.0
HEALTH_REQUEST_TIMEOUT = 5.0
SMOKE_BRANCH = "Smoke Test"
SMOKE_QUEUE = "CAJA"
HEALTH_SUFFIX = "/actuator/health"


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
