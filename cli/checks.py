"""`health`, `verify-health`, `smoke-test`, `wait-for-services`: the runbook's checks.

They use the same functions as the deploy workflow's steps (ops/checks.py),
so "the smoke test passed" means the same thing by hand and in a deploy.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import aio_pika
import httpx
from sqlalchemy import text

from cli.output import EXIT_FAILED, EXIT_OK, echo
from db.engine import make_engine
from ops.checks import (
    HealthTimeoutError,
    SmokeFailure,
    SmokeUnavailable,
    api_base,
    probe_health,
    run_smoke_test,
    smoke_base_url,
    wait_until_up,
)
from settings import Settings
from workflows.client import connect_temporal

CHECK_TIMEOUT = 3.0
SERVICES = ("postgres", "rabbitmq", "temporal", "api")


async def health(settings: Settings, args: argparse.Namespace) -> int:
    url = args.url or settings.deploy_health_url
    async with httpx.AsyncClient(timeout=10.0) as client:
        answer = await probe_health(client, url)
    echo(f"{'UP' if answer.up else 'DOWN'}  {url}: {answer.describe()}")
    return EXIT_OK if answer.up else EXIT_FAILED


async def verify_health(settings: Settings, args: argparse.Namespace) -> int:
    """Health UP (waiting up to --timeout, as the API may still be starting), then the
    probes, info and metrics endpoints the runbook's monitoring relies on."""
    url = args.url or settings.deploy_health_url
    timeout = settings.deploy_health_timeout_seconds if args.timeout is None else args.timeout
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    try:
        _, seconds, answer = await wait_until_up(url, deadline)
    except HealthTimeoutError as err:
        echo(f"FAIL health: {url} not UP within {timeout:g}s: {err.last.describe()}")
        return EXIT_FAILED
    echo(f"ok   health: {answer.describe()} after {seconds:.1f}s")
    base = api_base(url)
    if base is None:
        return EXIT_OK
    failures = 0
    async with httpx.AsyncClient(timeout=10.0) as client:
        for name, path, expect in (
            ("liveness", "/actuator/health/liveness", '"UP"'),
            ("readiness", "/actuator/health/readiness", '"UP"'),
            ("info", "/actuator/info", "version"),
            ("metrics", "/actuator/prometheus", "http_server_requests_seconds"),
        ):
            try:
                resp = await client.get(base + path)
                ok = resp.status_code == 200 and expect in resp.text
                detail = f"HTTP {resp.status_code}"
                if name == "info" and ok:
                    body = resp.json()
                    detail += (
                        f" version {body.get('app', {}).get('version')}"
                        f" commit {body.get('git', {}).get('commit')}"
                    )
            except (httpx.HTTPError, ValueError) as err:
                ok, detail = False, f"{type(err).__name__}: {err}"
            failures += not ok
            echo(f"{'ok  ' if ok else 'FAIL'} {name}: {path} {detail}")
    return EXIT_OK if failures == 0 else EXIT_FAILED


async def smoke_test(settings: Settings, args: argparse.Namespace) -> int:
    base = args.url or smoke_base_url(settings)
    try:
        figures = await run_smoke_test(base, f"smoke-cli-{uuid.uuid4().hex}")
    except (SmokeFailure, SmokeUnavailable) as err:
        echo(f"FAIL smoke test against {base}: {err}")
        return EXIT_FAILED
    echo(
        f"ok   smoke test against {base}: ticket {figures.get('ticket_number')} created and "
        f"cancelled at {figures.get('branch')} (health {figures.get('health_ms')} ms, "
        f"create {figures.get('create_ms')} ms, cancel {figures.get('cancel_ms')} ms)"
    )
    return EXIT_OK


# --- wait-for-services ------------------------------------------------------------


async def _postgres(settings: Settings) -> None:
    engine = make_engine(settings, pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def _rabbitmq(settings: Settings) -> None:
    conn = await aio_pika.connect(settings.rabbitmq_url.get_secret_value(), timeout=CHECK_TIMEOUT)
    await conn.close()


async def _temporal(settings: Settings) -> None:
    client = await connect_temporal(settings)
    if not await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT)):
        raise RuntimeError("frontend not serving")


async def _api(settings: Settings) -> None:
    base = api_base(settings.deploy_health_url)
    url = base + "/actuator/health/liveness" if base else settings.deploy_health_url
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
        resp = await client.get(url)
    if base is not None and resp.status_code != 200:
        raise RuntimeError(f"{url} answered {resp.status_code}")


_CHECKS: dict[str, Callable[[Settings], Awaitable[None]]] = {
    "postgres": _postgres,
    "rabbitmq": _rabbitmq,
    "temporal": _temporal,
    "api": _api,
}


async def _wait_one(settings: Settings, name: str, deadline: float) -> bool:
    started = time.monotonic()
    last = "not checked"
    while True:
        try:
            await asyncio.wait_for(_CHECKS[name](settings), CHECK_TIMEOUT + 1)
        except Exception as err:
            last = f"{type(err).__name__}: {err}".rstrip(": ")
        else:
            echo(f"ok   {name} ({time.monotonic() - started:.1f}s)")
            return True
        if time.monotonic() >= deadline:
            echo(f"FAIL {name}: not reachable: {last}")
            return False
        await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


async def wait_for_services(settings: Settings, args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.services.split(",") if n.strip()]
    unknown = [n for n in names if n not in _CHECKS]
    if unknown:
        echo(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
        return 2
    deadline = time.monotonic() + args.timeout
    results = await asyncio.gather(*(_wait_one(settings, n, deadline) for n in names))
    return EXIT_OK if all(results) else EXIT_FAILED


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("health", help="GET the API health once; exit 0 when UP")
    p.add_argument("--url", help="health URL (default: DEPLOY_HEALTH_URL)")

    p = sub.add_parser("verify-health", help="health UP (waiting), probes, info and metrics")
    p.add_argument("--url", help="health URL (default: DEPLOY_HEALTH_URL)")
    p.add_argument("--timeout", type=float, help="seconds to wait for UP (default: settings)")

    p = sub.add_parser("smoke-test", help="health, take a ticket, cancel it (the runbook test)")
    p.add_argument(
        "--url", help="API base URL (default: the root of DEPLOY_HEALTH_URL, else PUBLIC_BASE_URL)"
    )

    p = sub.add_parser("wait-for-services", help="wait until the services answer")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument(
        "--services",
        default=",".join(SERVICES),
        help=f"comma-separated subset of {','.join(SERVICES)} (default: all)",
    )
