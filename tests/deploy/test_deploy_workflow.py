"""DeployWorkflow and RollbackWorkflow on the stack's Temporal dev server.

The platform is the stand-in docker; health and the smoke test go to the test
stack's real API (or, for the failure paths, to a closed port and a stub that
answers 4xx). The backup is a test double registered as BackupWorkflow.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from ops import runs as ops_runs
from ops.activities.platform import VersionRecord, VersionStore
from ops.client import OperationConflict, start_operation
from ops.contracts import (
    DEPLOY_WORKFLOW,
    EXCLUSIVE_ID,
    ROLLBACK_WORKFLOW,
    STEP_HEALTH,
    STEP_SMOKE,
    STEP_UPDATE,
    DeployRequest,
    OpsReport,
    Progress,
    RollbackRequest,
)
from tests.deploy.conftest import deploy_settings, deploy_worker
from tests.deploy.fakes import FakeDocker, StubHttp
from tests.deploy.stubs import FailingBackupWorkflow
from tests.support.ports import free_port
from tests.support.stack import Stack
from tests.support.wait import eventually

UP = (200, {"status": "UP", "components": {"db": {"status": "UP"}}})


def seed_versions(settings_var: Path, current: str | None, previous: str | None) -> VersionStore:
    store = VersionStore(settings_var / "deploy" / "versions.json")
    store.save(VersionRecord(current=current, previous=previous))
    return store


def step(report: OpsReport, name: str) -> str:
    return next(s.outcome for s in report.steps if s.name == name)


async def run(client: Client, workflow: str, request: object, queue: str) -> OpsReport:
    result: OpsReport = await client.execute_workflow(
        workflow,
        request,
        id=f"{workflow.lower()}-test-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        result_type=OpsReport,
    )
    return result


async def test_deploy_success_records_versions_and_stores_the_report(
    stack: Stack, temporal: Client, db: AsyncEngine, tmp_path: Path, docker: FakeDocker
) -> None:
    settings = deploy_settings(stack, tmp_path, docker)
    store = seed_versions(settings.var_dir, "1.0.0", "0.9.0")
    async with deploy_worker(temporal, settings) as queue:
        report = await run(temporal, DEPLOY_WORKFLOW, DeployRequest(version="1.1.0"), queue)

    assert report.outcome == "ok", report
    assert [s.name for s in report.steps] == [
        "backup",
        "pull image",
        "rolling update",
        "wait for health",
        "smoke test",
    ]
    assert all(s.outcome == "ok" for s in report.steps)
    backup = report.steps[0]
    assert backup.detail == "stub backup (pre-deploy 1.1.0)"
    assert backup.figures["workflow_id"] == f"{report.workflow_id}-backup"
    smoke = report.steps[-1].figures
    assert smoke["branch"] == "Smoke Test" and smoke["ticket_number"]
    assert [c.argv[0] for c in docker.calls()] == ["pull", "compose"]
    assert docker.calls()[0].argv == ["pull", "ticketero-api:1.1.0"]
    assert docker.calls()[1].argv[-4:] == ["up", "-d", "--no-deps", "api"]
    assert docker.updates() == ["1.1.0"]
    record = store.load()
    assert (record.current, record.previous) == ("1.1.0", "1.0.0")
    stored = await ops_runs.get_run(db, report.workflow_id)
    assert stored is not None and stored.outcome == "ok" and stored.kind == "deploy"


async def test_health_never_up_rolls_back_to_the_previous_version(
    stack: Stack, temporal: Client, tmp_path: Path, docker: FakeDocker
) -> None:
    port = free_port()  # nothing listens: the new version never answers
    settings = deploy_settings(
        stack,
        tmp_path,
        docker,
        deploy_health_url=f"http://127.0.0.1:{port}/actuator/health",
        deploy_health_timeout_seconds=2.0,
    )
    store = seed_versions(settings.var_dir, "1.0.0", "0.9.0")
    old_version = StubHttp({("GET", "/actuator/health"): UP})
    async with deploy_worker(temporal, settings) as queue:
        handle = await temporal.start_workflow(
            DEPLOY_WORKFLOW,
            DeployRequest(version="1.1.0"),
            id=f"deploy-test-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            result_type=OpsReport,
        )

        # The rollback recreates the old version: from then on the port answers UP.
        async def rolled_back() -> bool:
            return docker.updates() == ["1.1.0", "1.0.0"]

        await eventually(rolled_back, timeout=30, what="the rollback's compose up")
        await old_version.start(port)
        progress = await handle.query("progress", result_type=Progress)
        assert (progress.steps[3].name, progress.steps[3].outcome) == (STEP_HEALTH, "failed")
        try:
            report = await handle.result()
        finally:
            await old_version.stop()

    assert report.outcome == "rolled_back", report
    assert "wait for health" in report.summary and "rolled back to 1.0.0" in report.summary
    assert step(report, STEP_HEALTH) == "failed"
    assert step(report, STEP_UPDATE) == "compensated"
    assert step(report, "rollback") == "ok"
    assert step(report, "wait for health after rollback") == "ok"
    assert STEP_SMOKE not in [s.name for s in report.steps]
    rollback = docker.calls()[-1]
    assert rollback.argv[-4:] == ["up", "-d", "--no-deps", "api"]
    assert rollback.version == "1.0.0"
    record = store.load()
    assert (record.current, record.previous) == ("1.0.0", "0.9.0")


async def test_smoke_test_failure_rolls_back(
    stack: Stack, temporal: Client, tmp_path: Path, docker: FakeDocker
) -> None:
    # An API that reports UP but refuses tickets: the smoke test goes to the API behind
    # the health URL, so both point at this stub.
    refusing = StubHttp(
        {
            ("GET", "/actuator/health"): UP,
            ("POST", "/api/tickets"): (400, {"message": "Malformed JSON request body"}),
        }
    )
    port = await refusing.start()
    settings = deploy_settings(
        stack, tmp_path, docker, deploy_health_url=f"http://127.0.0.1:{port}/actuator/health"
    )
    seed_versions(settings.var_dir, "1.0.0", None)
    try:
        async with deploy_worker(temporal, settings) as queue:
            report = await run(temporal, DEPLOY_WORKFLOW, DeployRequest(version="2.0.0"), queue)
    finally:
        await refusing.stop()

    assert report.outcome == "rolled_back", report
    assert "failed at smoke test" in report.summary
    assert "400" in report.summary
    assert step(report, STEP_SMOKE) == "failed"
    assert step(report, "wait for health after rollback") == "ok"
    assert docker.updates() == ["2.0.0", "1.0.0"]
    # A wrong answer is an assertion: not retried.
    assert refusing.requests.count(("POST", "/api/tickets")) == 1


async def test_failed_backup_stops_the_deploy_before_any_change(
    stack: Stack, temporal: Client, tmp_path: Path, docker: FakeDocker
) -> None:
    settings = deploy_settings(stack, tmp_path, docker)
    store = seed_versions(settings.var_dir, "1.0.0", None)
    async with deploy_worker(temporal, settings, backup=FailingBackupWorkflow) as queue:
        report = await run(temporal, DEPLOY_WORKFLOW, DeployRequest(version="1.1.0"), queue)

    assert report.outcome == "failed"
    assert "failed at backup" in report.summary and "disk full" in report.summary
    assert docker.calls() == []
    assert store.load().current == "1.0.0"


async def test_rollback_workflow_goes_to_the_previous_version(
    stack: Stack, temporal: Client, tmp_path: Path, docker: FakeDocker
) -> None:
    settings = deploy_settings(stack, tmp_path, docker)
    store = seed_versions(settings.var_dir, "1.1.0", "1.0.0")
    async with deploy_worker(temporal, settings) as queue:
        report = await run(temporal, ROLLBACK_WORKFLOW, RollbackRequest(), queue)
        explicit = await run(temporal, ROLLBACK_WORKFLOW, RollbackRequest(version="0.9.0"), queue)

    assert report.outcome == "ok", report
    assert report.kind == "rollback"
    assert [s.name for s in report.steps] == ["rollback", "wait for health"]
    assert "rolled back to 1.0.0 (was 1.1.0)" in report.summary
    assert explicit.outcome == "ok"
    assert docker.updates() == ["1.0.0", "0.9.0"]
    record = store.load()
    assert (record.current, record.previous) == ("0.9.0", "1.0.0")


async def test_rollback_without_a_previous_version_fails_without_commands(
    stack: Stack, temporal: Client, tmp_path: Path, docker: FakeDocker
) -> None:
    settings = deploy_settings(stack, tmp_path, docker)
    async with deploy_worker(temporal, settings) as queue:
        report = await run(temporal, ROLLBACK_WORKFLOW, RollbackRequest(), queue)
    assert report.outcome == "failed"
    assert "no previous version" in report.summary
    assert docker.updates() == []


async def test_a_second_deploy_is_refused_while_one_runs(
    stack: Stack, temporal: Client, tmp_path: Path, docker: FakeDocker
) -> None:
    nobody = f"nobody-{uuid.uuid4().hex[:8]}"  # no worker: the blocker stays running
    settings = deploy_settings(stack, tmp_path, docker, temporal_task_queue=nobody)
    blocker = await start_operation(
        temporal, settings, DEPLOY_WORKFLOW, DeployRequest(version="9.9.9"), "deploy"
    )
    try:
        # Refused at once (the fixed id `ops-exclusive`), no visibility lag to wait for.
        with pytest.raises(OperationConflict) as refused:
            await start_operation(
                temporal, settings, ROLLBACK_WORKFLOW, RollbackRequest(), "rollback"
            )
    finally:
        await temporal.get_workflow_handle(EXCLUSIVE_ID).terminate("test done")
    assert blocker.workflow_id in str(refused.value)
