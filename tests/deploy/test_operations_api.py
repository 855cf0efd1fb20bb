"""Operator REST: roles, 202 starts with id and Temporal link, runs, schedules, validation."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError

from ops import runs as ops_runs
from ops.contracts import OpsReport, Step
from tests.support.data import branch_name
from tests.support.staff import Staff, add_advisor, add_user

UI = "http://127.0.0.1:8233/namespaces/default/workflows/"

ROUTES = [
    ("POST", "/api/operations/backups"),
    ("POST", "/api/operations/restores"),
    ("POST", "/api/operations/maintenance/daily"),
    ("POST", "/api/operations/deployments"),
    ("POST", "/api/operations/rollbacks"),
    ("GET", "/api/operations/runs"),
    ("GET", "/api/operations/runs/backup-20261128T093000Z"),
    ("GET", "/api/operations/schedules"),
    ("POST", "/api/operations/schedules/ticketero-backup-daily/trigger"),
    ("POST", "/api/operations/schedules/ticketero-backup-daily/pause"),
    ("POST", "/api/operations/schedules/ticketero-backup-daily/resume"),
]


@pytest.fixture(scope="module")
async def operator(api: httpx.AsyncClient, db: AsyncEngine) -> Staff:
    return await add_user(db, api, "operator")


@pytest.fixture(scope="module")
async def others(api: httpx.AsyncClient, db: AsyncEngine) -> list[Staff]:
    supervisor = await add_user(db, api, "supervisor")
    advisor = await add_advisor(db, api, branch_name("Ops"), desk=1, queues=["CAJA"])
    return [supervisor, advisor]


async def test_every_route_needs_a_token(api: httpx.AsyncClient) -> None:
    for method, path in ROUTES:
        resp = await api.request(method, path, json={"version": "1.0.0"})
        assert resp.status_code == 401, (method, path, resp.text)
        assert resp.headers["WWW-Authenticate"] == "Bearer"


async def test_other_roles_are_refused(api: httpx.AsyncClient, others: list[Staff]) -> None:
    for staff in others:
        for method, path in ROUTES:
            resp = await api.request(method, path, json={"version": "1.0.0"}, headers=staff.headers)
            assert resp.status_code == 403, (staff.username, method, path, resp.text)
            assert resp.json()["message"] == "Requiere el rol operator"


async def test_operator_starts_a_backup(
    api: httpx.AsyncClient, operator: Staff, temporal: Client
) -> None:
    resp = await api.post(
        "/api/operations/backups", json={"variant": "data_only"}, headers=operator.headers
    )
    assert resp.status_code == 202, resp.text
    body = resp.json()
    workflow_id = body["workflowId"]
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        assert re.fullmatch(r"backup-\d{8}T\d{6}Z", workflow_id)
        assert body["temporalUrl"] == UI + workflow_id
        assert body["statusUrl"] == f"/api/operations/runs/{workflow_id}"
        assert resp.headers["Location"] == body["statusUrl"]
        desc = await handle.describe()
        assert desc.workflow_type == "BackupWorkflow"
        assert desc.task_queue == "ticketero-test-ops"
        # Whether or not an ops worker serves the stack: the live status or the report.
        live = await api.get(body["statusUrl"], headers=operator.headers)
        assert live.status_code == 200, live.text
        assert live.json()["status"] in ("RUNNING", "COMPLETED")
        assert live.json()["temporalUrl"] == UI + workflow_id
    finally:
        with contextlib.suppress(RPCError):  # already finished
            await handle.terminate("test: only the start is under test")


async def test_runs_list_and_report(
    api: httpx.AsyncClient, operator: Staff, db: AsyncEngine
) -> None:
    now = datetime.now(UTC)
    report = OpsReport(
        kind="deploy",
        workflow_id=f"deploy-{now:%Y%m%dT%H%M%S}Z-api-test",
        outcome="rolled_back",
        summary="deploy 9.9.9 failed at smoke test: 400; rolled back to 9.9.8",
        steps=[Step(name="smoke test", outcome="failed", detail="POST /api/tickets answered 400")],
        started_at=now,
        finished_at=now,
    )
    await ops_runs.store_report(db, report)

    listed = await api.get(
        "/api/operations/runs", params={"kind": "deploy", "limit": 50}, headers=operator.headers
    )
    assert listed.status_code == 200, listed.text
    runs = listed.json()["runs"]
    mine = next(r for r in runs if r["workflowId"] == report.workflow_id)
    assert mine["outcome"] == "rolled_back" and mine["status"] == "COMPLETED"
    assert mine["temporalUrl"] == UI + report.workflow_id
    assert all(r["kind"] == "deploy" for r in runs)

    one = await api.get(f"/api/operations/runs/{report.workflow_id}", headers=operator.headers)
    assert one.status_code == 200
    assert one.json()["steps"][0]["name"] == "smoke test"
    assert one.json()["summary"] == report.summary

    unknown = await api.get(
        "/api/operations/runs/backup-19990101T000000Z", headers=operator.headers
    )
    assert unknown.status_code == 404


async def test_validation_names_the_field(api: httpx.AsyncClient, operator: Staff) -> None:
    bad_version = await api.post(
        "/api/operations/deployments", json={"version": "1.0 beta"}, headers=operator.headers
    )
    assert bad_version.status_code == 422
    assert bad_version.json()["errors"][0]["field"] == "version"

    bad_routine = await api.post("/api/operations/maintenance/hourly", headers=operator.headers)
    assert bad_routine.status_code == 422
    assert bad_routine.json()["errors"][0]["field"] == "routine"

    bad_limit = await api.get("/api/operations/runs", params={"limit": 0}, headers=operator.headers)
    assert bad_limit.status_code == 422
    assert bad_limit.json()["errors"][0]["field"] == "limit"


async def test_schedules(api: httpx.AsyncClient, operator: Staff) -> None:
    listed = await api.get("/api/operations/schedules", headers=operator.headers)
    assert listed.status_code == 200, listed.text
    assert isinstance(listed.json()["schedules"], list)
    missing = await api.post(
        "/api/operations/schedules/no-such-schedule/pause", headers=operator.headers
    )
    assert missing.status_code == 404
