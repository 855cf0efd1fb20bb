"""The actuator endpoints the runbook curls without credentials."""

from __future__ import annotations

import socket
import subprocess
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from api.deps import ResourcesDep
from api.metrics import database_collector, db_pool_checked_out, db_pool_size
from api.services.health import health
from db.gauges import Snapshot, snapshot

router = APIRouter(prefix="/actuator", tags=["actuator"])


def _answer(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=200 if body["status"] == "UP" else 503)


@router.get("/health")
async def overall(res: ResourcesDep) -> JSONResponse:
    """UP only when PostgreSQL, RabbitMQ and Temporal all answer; 503 names the one DOWN."""
    return _answer(await health(res, ("db", "rabbit", "temporal")))


@router.get("/health/liveness")
async def liveness() -> dict[str, str]:
    """The process runs its event loop; nothing external is checked."""
    return {"status": "UP"}


@router.get("/health/readiness")
async def readiness(res: ResourcesDep) -> JSONResponse:
    """Ready to take tickets: the database and Temporal answer."""
    return _answer(await health(res, ("db", "temporal")))


@lru_cache(maxsize=1)
def _static_info(configured_commit: str) -> dict[str, Any]:
    try:
        app_version = version("ticketero")
    except PackageNotFoundError:
        app_version = "0.0.0+unknown"
    commit = configured_commit
    if not commit:
        try:
            commit = subprocess.run(
                ["git", "rev-parse", "--short=12", "HEAD"],
                capture_output=True,
                text=True,
                timeout=2,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = "unknown"
    return {"app": {"name": "ticketero", "version": app_version}, "git": {"commit": commit}}


@router.get("/info")
async def info(res: ResourcesDep) -> dict[str, Any]:
    return {"hostname": socket.gethostname(), **_static_info(res.settings.git_commit)}


@router.get("/prometheus")
async def prometheus(res: ResourcesDep) -> Response:
    pool = res.engine.pool
    db_pool_size.set(res.settings.db_pool_size + res.settings.db_max_overflow)
    db_pool_checked_out.set(getattr(pool, "checkedout", lambda: 0)())
    try:
        database_collector.snapshot = await snapshot(res.engine)
    except Exception:
        database_collector.snapshot = Snapshot()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
