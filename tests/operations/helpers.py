"""Helpers of the operations tests: the in-test ops worker, tickets, snapshots."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from temporalio.client import Client
from temporalio.worker import Worker

from db.tickets import create_ticket
from domain.contracts import NewTicket
from ops.activities.maintenance import DiskUsageProbe
from ops.worker import build_ops_worker
from settings import Settings
from tests.support.data import branch_name


@asynccontextmanager
async def ops_worker(
    client: Client, settings: Settings, *, disk_usage: DiskUsageProbe | None = None
) -> AsyncIterator[Worker]:
    """The real ops worker (build_ops_worker) with an engine of its own, disposed after."""
    eng = create_async_engine(settings.database_url, pool_size=2)
    try:
        async with build_ops_worker(client, settings, engine=eng, disk_usage=disk_usage) as w:
            yield w
    finally:
        await eng.dispose()


def run_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def add_tickets(engine: AsyncEngine, n: int, branch: str | None = None) -> list[uuid.UUID]:
    """Create tickets through the application's own insert (numbering, audit, position)."""
    branch = branch or branch_name("Ops")
    refs = []
    for _ in range(n):
        new = NewTicket(
            reference=uuid.uuid4(),
            branch_office=branch,
            queue="CAJA",
            national_id_hash=uuid.uuid4().hex,
            national_id_masked="*****999",
            fingerprint="ops-test",
            requested_at=datetime.now(UTC),
        )
        outcome = await create_ticket(engine, new, "America/Santiago")
        assert outcome.ticket is not None
        refs.append(new.reference)
    return refs


async def snapshot(engine: AsyncEngine) -> tuple[int, str]:
    """Row count and md5 of every ticket row in reference order: equal means same content."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|'"
                    " ORDER BY t.reference), '')) AS digest FROM ticket t"
                )
            )
        ).one()
    return int(row.n), str(row.digest)


async def counter(engine: AsyncEngine, name: str, label: str) -> float:
    async with engine.connect() as conn:
        value = (
            await conn.execute(
                text("SELECT value FROM metric_counter WHERE name = :n AND label = :l"),
                {"n": name, "l": label},
            )
        ).scalar_one_or_none()
    return float(value or 0.0)


def archives(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def step(report: Any, name: str) -> Any:
    """The named step of a report (fails the test when missing)."""
    found = [s for s in report.steps if s.name == name]
    assert found, f"no step {name!r} in {[s.name for s in report.steps]}"
    return found[0]
