"""A normal day logs no ERROR: the daily maintenance after 100 tickets and displays coming
and going ends OK, its error-log check counting 0 ERROR lines of that traffic.

Live events are published without `mandatory` (no "Basic.Return / unhandled message"
per event while no display listens) and a display closing its stream leaves no
traceback. The run carries its outcome in Temporal (search attribute OpsOutcome).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from ops.client import start_operation
from ops.contracts import (
    MAINTENANCE_WORKFLOW,
    BackupRequest,
    MaintenanceRequest,
    OpsReport,
)
from ops.search import OPS_KIND, OPS_OUTCOME
from ops.workflows.backup import BackupWorkflow
from settings import Settings
from tests.operations.helpers import ops_worker, run_id, step
from tests.operations.test_maintenance import half_full
from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.stack import Stack
from tests.support.staff import add_advisor

TICKETS = 100
SERVED = 5


def log_offsets(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in folder.glob("*.log")}


def copy_new_lines(folder: Path, since: dict[str, int], to: Path) -> None:
    """What the stack's processes logged since `since`, as the maintenance would read it."""
    for path in folder.glob("*.log"):
        with path.open("rb") as f:
            f.seek(since.get(path.name, 0))
            (to / path.name).write_bytes(f.read())


async def logs_settle(folder: Path, quiet: float = 0.5, deadline: float = 15.0) -> None:
    """Wait until no process has written a log line for `quiet` seconds (or the deadline)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    sizes = log_offsets(folder)
    still_since = loop.time()
    while loop.time() < end:
        await asyncio.sleep(0.1)  # polling the log sizes, with a deadline
        now = log_offsets(folder)
        if now != sizes:
            sizes, still_since = now, loop.time()
        elif loop.time() - still_since >= quiet:
            return


async def display_comes_and_goes(api: httpx.AsyncClient, branch: str, events: int) -> None:
    """Open the public display feed, read a few frames, and hang up mid-stream."""
    path = f"/api/branches/{branch}/display/events"
    async with api.stream("GET", path) as resp:
        assert resp.status_code == 200, await resp.aread()
        seen = 0
        async for line in resp.aiter_lines():
            if line.startswith("event: "):
                seen += 1
                if seen >= events:
                    break


async def test_daily_maintenance_after_a_busy_day_ends_ok_with_no_error_lines(
    api: httpx.AsyncClient,
    db: AsyncEngine,
    stack: Stack,
    temporal: Client,
    ops_settings: Settings,
) -> None:
    stack_logs = Path(stack.env["LOG_DIR"])
    before = log_offsets(stack_logs)
    branch = await add_branch(api, "Sucursal Jornada")
    tickets = []
    for i in range(TICKETS):
        # With no display connected: the events have nowhere to go, and that is fine.
        created = await api.post("/api/tickets", json=ticket_body(branch))
        assert created.status_code == 201, created.text
        tickets.append(created.json())
        if i % 20 == 10:
            await display_comes_and_goes(api, branch, events=1)
    advisor = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    for _ in range(SERVED):
        # A display watches the calls, and leaves while events still flow.
        watcher = asyncio.create_task(display_comes_and_goes(api, branch, events=2))
        called = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
        # After a completion the next customer may be called at once (409, ticket in hand).
        assert called.status_code in (200, 409), called.text
        body = called.json()
        reference = body["ticket"]["reference"] if "ticket" in body else body["ticketReference"]
        for action in ("start", "complete"):
            done = await api.post(f"/api/tickets/{reference}/{action}", headers=advisor.headers)
            assert done.status_code == 200, done.text
        await asyncio.wait_for(watcher, 30)
    await logs_settle(stack_logs)  # the last events and disconnects are logged
    copy_new_lines(stack_logs, before, ops_settings.log_dir)
    errors = [
        line
        for p in ops_settings.log_dir.glob("*.log")
        for line in p.read_text().splitlines()
        if '"ERROR"' in line
    ]
    assert errors == [], errors[:5]

    async with ops_worker(temporal, ops_settings, disk_usage=half_full):
        await temporal.execute_workflow(  # the nightly backup the daily routine verifies
            BackupWorkflow.run,
            BackupRequest(reason="scheduled"),
            id=run_id("ops-test-backup"),
            task_queue=ops_settings.temporal_task_queue + "-ops",
        )
        started = await start_operation(
            temporal,
            ops_settings,
            MAINTENANCE_WORKFLOW,
            MaintenanceRequest(routine="daily"),
            "maintenance-daily",
        )
        handle = temporal.get_workflow_handle(started.workflow_id, result_type=OpsReport)
        report = await handle.result()
    assert started.workflow_id.startswith("maintenance-daily-")
    assert step(report, "error_logs").figures["errors_24h"] == 0
    assert report.outcome == "ok", report
    described = await handle.describe()
    assert described.typed_search_attributes.get(OPS_OUTCOME) == "ok"
    assert described.typed_search_attributes.get(OPS_KIND) == "maintenance_daily"
    assert await described.memo_value("summary") == report.summary
