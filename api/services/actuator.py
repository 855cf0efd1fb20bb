"""What the actuator shows besides health: build info and the Prometheus scrape."""

from __future__ import annotations

import socket
import subprocess
from functools import lru_cache
from typing import Any

from prometheus_client import REGISTRY, generate_latest

from api.metrics import database_collector, db_pool_checked_out, db_pool_size
from api.resources import Resources
from db.gauges import Snapshot, snapshot
from observability import build_info


@lru_cache(maxsize=1)
def _static_info(configured_commit: str) -> dict[str, Any]:
    app_version = build_info.app_version()
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


def info(res: Resources) -> dict[str, Any]:
    """Host name, application version and git commit."""
    return {"hostname": socket.gethostname(), **_static_info(res.settings.git_commit)}


async def scrape(res: Resources) -> bytes:
    """Every metric in Prometheus' text format, the pool and database gauges refreshed first."""
    pool = res.engine.pool
    db_pool_size.set(res.settings.db_pool_size + res.settings.db_max_overflow)
    db_pool_checked_out.set(getattr(pool, "checkedout", lambda: 0)())
    try:
        database_collector.snapshot = await snapshot(res.engine)
    except Exception:
        database_collector.snapshot = Snapshot()
    return generate_latest(REGISTRY)
