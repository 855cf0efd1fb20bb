"""Fixtures of the deploy tests: a Temporal client on the stack, a stand-in docker, settings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from ops.activities.deploy import deploy_activities
from ops.workflows.deploy import DEPLOY_WORKFLOWS
from ops.workflows.exclusive import ExclusiveOperation
from settings import Settings
from tests.deploy.fakes import FakeDocker
from tests.deploy.stubs import StubBackupWorkflow
from tests.support.stack import Stack

# The default (strict) sandbox: it re-imports the workflow modules and refuses I/O, so a
# workflow that is not deterministic fails here even though production passes modules through.
RUNNER = SandboxedWorkflowRunner()


@pytest.fixture(scope="module")
async def temporal(stack: Stack) -> Client:
    return await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)


@pytest.fixture
def docker(tmp_path: Path) -> FakeDocker:
    return FakeDocker(tmp_path / "bin")


def deploy_settings(stack: Stack, tmp_path: Path, docker: FakeDocker, **over: Any) -> Settings:
    """Docker engine through the stand-in; health and smoke test on the stack's real API."""
    values: dict[str, Any] = {
        "database_url": stack.database_url,
        "temporal_address": stack.temporal_address,
        "container_engine": "docker",
        "docker_bin": str(docker.path),
        "compose_file": Path("docker-compose.yml"),
        "compose_project": "ticketero-test",
        "deploy_service": "api",
        "deploy_image": "ticketero-api",
        "var_dir": tmp_path / "var",
        "deploy_health_url": f"{stack.api_url}/actuator/health",
        "deploy_health_timeout_seconds": 10.0,
        "public_base_url": stack.api_url,
    }
    values.update(over)
    return Settings(**values)


@asynccontextmanager
async def deploy_worker(
    client: Client,
    settings: Settings,
    backup: type = StubBackupWorkflow,
    task_queue: str | None = None,
    extra: Sequence[type] = (),
) -> AsyncIterator[str]:
    """An in-test worker with the deploy workflows, their activities and a backup double."""
    queue = task_queue or f"deploy-test-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[*DEPLOY_WORKFLOWS, ExclusiveOperation, backup, *extra],
        activities=deploy_activities(settings),
        workflow_runner=RUNNER,
    ):
        yield queue
