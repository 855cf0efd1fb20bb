"""A restore brings the read model back in line with the ticket workflows: a ticket
taken after the backup is back (same number, still WAITING), a ticket completed after
it is COMPLETED again, the number counter does not hand a number out twice, and what
cannot be reconciled is listed in the restore's report.

The real API (in-process, on this module's scratch database), a real ticket worker and
the real ops worker, all on a task queue of their own on the stack's Temporal server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.lifecycle import LifecycleActivities
from activities.notifications import NotificationActivities
from activities.publisher import Publisher
from activities.tickets import TicketActivities
from api.main import create_app
from api.resources import Resources, TemporalHolder
from db import ops as ops_db
from domain.contracts import TicketState
from ops.activities.reconcile import ReconcileActivities
from ops.contracts import BackupRequest, OpsReport, ReconcileJob, RestoreRequest
from ops.workflows.backup import BackupWorkflow
from ops.workflows.restore import RestoreWorkflow
from settings import Settings
from tests.support.branches import add_branch_in_db
from tests.support.data import branch_name, ticket_body
from tests.support.stack import Stack
from tests.support.staff import Staff, add_advisor
from tests.support.wait import eventually
from workflows.ticket import TicketWorkflow


@pytest.fixture
async def api(engine: AsyncEngine, ops_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The application's API on the scratch database and the test's task queue."""
    app = create_app(ops_settings)
    app.state.resources = Resources(
        settings=ops_settings, engine=engine, temporal=TemporalHolder(ops_settings)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def ticket_worker(
    temporal: Client, ops_settings: Settings, stack: Stack
) -> AsyncIterator[Worker]:
    """The ticket worker's workflows and activities (as worker.build_worker registers
    them) on the scratch database; ticket workflows left running are terminated after."""
    engine = create_async_engine(ops_settings.database_url, pool_size=4)
    publisher = Publisher(stack.env["RABBITMQ_URL"], ops_settings.rabbitmq_exchange)
    tickets = TicketActivities(engine, ops_settings.default_time_zone, publisher)
    lifecycle = LifecycleActivities(engine, temporal, publisher)
    notifications = NotificationActivities(engine, publisher)
    worker = Worker(
        temporal,
        task_queue=ops_settings.temporal_task_queue,
        workflows=[TicketWorkflow],
        activities=[
            tickets.create_ticket,
            lifecycle.apply_transition,
            lifecycle.after_queue_change,
            lifecycle.link_chat,
            notifications.enqueue_notification,
            notifications.give_up_notification,
        ],
    )
    try:
        async with worker:
            yield worker
    finally:
        query = f"TaskQueue = '{ops_settings.temporal_task_queue}' AND ExecutionStatus = 'Running'"
        async for execution in temporal.list_workflows(query):
            await temporal.get_workflow_handle(execution.id).terminate("test over")
        await publisher.close()
        await engine.dispose()


async def run_ops(client: Client, settings: Settings, workflow: Any, request: Any) -> OpsReport:
    from tests.operations.helpers import ops_worker, run_id

    async with ops_worker(client, settings):
        report: OpsReport = await client.execute_workflow(
            workflow,
            request,
            id=run_id("ops-test-reconcile"),
            task_queue=settings.temporal_task_queue + "-ops",
        )
    return report


async def take(api: httpx.AsyncClient, branch: str, queue: str = "CAJA") -> dict[str, Any]:
    resp = await api.post("/api/tickets", json=ticket_body(branch, queue))
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def ticket(api: httpx.AsyncClient, reference: str) -> httpx.Response:
    return await api.get(f"/api/tickets/{reference}")


async def set_status(api: httpx.AsyncClient, who: Staff, status: str) -> None:
    resp = await api.put("/api/advisors/me/status", json={"status": status}, headers=who.headers)
    assert resp.status_code == 200, resp.text


async def given(api: httpx.AsyncClient, who: Staff, reference: str) -> None:
    """The advisor comes AVAILABLE and the dispatcher gives them the waiting ticket."""
    await set_status(api, who, "AVAILABLE")

    async def called() -> bool:
        return bool((await ticket(api, reference)).json()["status"] == "CALLED")

    await eventually(called, timeout=20, what="the advisor to be given the ticket")


async def serve(api: httpx.AsyncClient, who: Staff, reference: str) -> None:
    for action in ("start", "complete"):
        resp = await api.post(f"/api/tickets/{reference}/{action}", headers=who.headers)
        assert resp.status_code == 200, resp.text


async def mine(api: httpx.AsyncClient, who: Staff) -> dict[str, Any]:
    me: dict[str, Any] = (await api.get("/api/advisors/me", headers=who.headers)).json()
    return me


async def trail(engine: AsyncEngine, reference: str) -> list[str]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT action FROM ticket_event WHERE ticket_reference = :r ORDER BY at, id"),
                {"r": reference},
            )
        ).all()
    return [r.action for r in rows]


async def backup(temporal: Client, settings: Settings) -> str:
    made = await run_ops(
        temporal, settings, BackupWorkflow.run, BackupRequest(variant="full", reason="test")
    )
    assert made.outcome == "ok", made
    return str(next(s for s in made.steps if s.name == "dump").figures["file"])


def reconcile_step(report: OpsReport) -> Any:
    found = [s for s in report.steps if s.name == "reconcile"]
    assert found, [s.name for s in report.steps]
    return found[0]


async def test_restore_brings_back_a_later_ticket_and_a_later_completion(
    temporal: Client,
    ops_settings: Settings,
    engine: AsyncEngine,
    api: httpx.AsyncClient,
    ticket_worker: Worker,
) -> None:
    """Nobody serves CAJA, so Y waits; A serves EMPRESAS and holds Z at the backup, then
    completes it; B serves PERSONAL_BANKER and is given V after the backup."""
    branch = branch_name("Reconcilia")
    a = await add_advisor(engine, api, branch, desk=3, queues=["EMPRESAS"])
    b = await add_advisor(engine, api, branch, desk=4, queues=["PERSONAL_BANKER"])
    z = await take(api, branch, "EMPRESAS")
    await given(api, a, z["reference"])  # A holds Z (CALLED) in the backup
    name = await backup(temporal, ops_settings)

    await serve(api, a, z["reference"])  # Z completed after the backup
    y = await take(api, branch)  # Y taken after the backup
    assert (y["number"], y["status"]) == ("C01", "WAITING")
    v = await take(api, branch, "PERSONAL_BANKER")
    await given(api, b, v["reference"])  # V taken and called after the backup

    done = await run_ops(
        temporal, ops_settings, RestoreWorkflow.run, RestoreRequest(backup=name, reason="test")
    )
    assert done.outcome == "ok", done
    names = [s.name for s in done.steps]
    assert names[-3:] == ["integrity", "reconcile", "maintenance_off"], names
    step = reconcile_step(done)
    assert step.outcome == "ok" and step.figures["unreconciled"] == [], step
    assert step.figures["rows_restored"] == 2
    moved = {(c["queue"], c["from"], c["to"]) for c in step.figures["counters_moved"]}
    assert moved == {("CAJA", 0, 1), ("PERSONAL_BANKER", 0, 1)}
    assert (await ops_db.get_maintenance(engine)).enabled is False

    # Y: back in the read model, WAITING with its number, as its workflow says.
    got = await ticket(api, y["reference"])
    assert got.status_code == 200, got.text
    assert (got.json()["number"], got.json()["status"]) == ("C01", "WAITING")
    state = await temporal.get_workflow_handle(f"ticket-{y['reference']}").query(
        TicketWorkflow.state, rpc_timeout=timedelta(seconds=10)
    )
    assert isinstance(state, TicketState) and state.status == "WAITING"
    # Z: COMPLETED again, with its whole trail, and A no longer holds it.
    assert (await ticket(api, z["reference"])).json()["status"] == "COMPLETED"
    assert await trail(engine, z["reference"]) == ["CREATE", "CALL", "START", "COMPLETE"]
    assert (await mine(api, a))["ticket"] is None
    # V: CALLED at B's desk, and B holds it (BUSY), as the reservation had made them.
    assert (await ticket(api, v["reference"])).json()["status"] == "CALLED"
    held = await mine(api, b)
    assert held["status"] == "BUSY" and held["ticket"]["reference"] == v["reference"]
    # The next ticket of Y's queue gets the next number, not Y's again.
    nxt = await take(api, branch)
    assert nxt["number"] == "C02"

    # Idempotent: reconciling again (a retried activity) writes nothing new.
    again = await ReconcileActivities(engine, temporal, ops_settings).reconcile(
        ReconcileJob(file_name=name)
    )
    assert again.outcome == "ok", again
    assert again.figures["rows_restored"] == 0
    assert again.figures["events_restored"] == 0
    assert again.figures["statuses_set"] == 0
    assert again.figures["counters_moved"] == []
    assert await trail(engine, z["reference"]) == ["CREATE", "CALL", "START", "COMPLETE"]


async def test_a_ticket_of_a_branch_the_backup_lacks_is_listed_unreconciled(
    temporal: Client,
    ops_settings: Settings,
    engine: AsyncEngine,
    api: httpx.AsyncClient,
    ticket_worker: Worker,
) -> None:
    """The branch's registration (time zone, hours) exists only in the database: a ticket
    of a branch registered after the backup cannot be put back, and the report says so."""
    known = await add_branch_in_db(engine, "Conocida")
    name = await backup(temporal, ops_settings)
    later = await add_branch_in_db(engine, "Posterior")
    lost = await take(api, later)
    kept = await take(api, known)

    done = await run_ops(
        temporal, ops_settings, RestoreWorkflow.run, RestoreRequest(backup=name, reason="test")
    )
    assert done.outcome == "alert", done
    step = reconcile_step(done)
    assert step.outcome == "alert"
    assert step.figures["unreconciled"] == [
        {
            "workflow_id": f"ticket-{lost['reference']}",
            "number": lost["number"],
            "branch": later,
            "reason": f"branch {later!r} is not in the restored database",
        }
    ], step
    assert f"ticket-{lost['reference']}" in step.detail and "NOT reconciled" in step.detail
    assert "could NOT be reconciled" in done.summary
    assert (await ticket(api, lost["reference"])).status_code == 404
    assert (await ticket(api, kept["reference"])).json()["status"] == "WAITING"
    assert (await ops_db.get_maintenance(engine)).enabled is False
