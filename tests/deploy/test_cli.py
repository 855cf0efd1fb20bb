"""The `ticketero` CLI and the runbook scripts, run as subprocesses against the test stack."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from ops.activities.platform import VersionRecord, VersionStore
from tests.deploy.conftest import deploy_settings, deploy_worker
from tests.deploy.fakes import FakeDocker
from tests.support.stack import REPO, Stack

TICKETERO = REPO / ".venv" / "bin" / "ticketero"


def cli_env(stack: Stack, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **stack.env,
        "DEPLOY_HEALTH_URL": f"{stack.api_url}/actuator/health",
        "PUBLIC_BASE_URL": stack.api_url,
        "DEPLOY_HEALTH_TIMEOUT_SECONDS": "20",
        **extra,
    }


async def sh(argv: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:  # noqa: ASYNC109
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(REPO),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.fixture(scope="module")
def env(stack: Stack) -> dict[str, str]:
    return cli_env(stack)


async def test_help_lists_every_command() -> None:
    code, out = await sh([str(TICKETERO), "--help"], dict(os.environ))
    assert code == 0, out
    for command in (
        "backup",
        "restore",
        "maintenance",
        "deploy",
        "rollback",
        "runs",
        "report",
        "schedules",
        "health",
        "wait-for-services",
        "smoke-test",
        "verify-health",
        "contacts",
    ):
        assert command in out


async def test_bad_usage_exits_2(env: dict[str, str]) -> None:
    code, out = await sh([str(TICKETERO), "restore"], env)
    assert code == 2 and "one of the arguments" in out
    code, out = await sh([str(TICKETERO), "deploy", "1.0 beta"], env)
    assert code == 2 and "version" in out


async def test_health_against_the_stack(env: dict[str, str]) -> None:
    code, out = await sh([str(TICKETERO), "health"], env)
    assert code == 0, out
    assert out.startswith("UP")


async def test_health_down_exits_1(stack: Stack) -> None:
    closed = "http://127.0.0.1:9/actuator/health"
    code, out = await sh([str(TICKETERO), "health"], cli_env(stack, DEPLOY_HEALTH_URL=closed))
    assert code == 1, out
    assert out.startswith("DOWN")


async def test_smoke_test_against_the_stack(env: dict[str, str]) -> None:
    code, out = await sh([str(TICKETERO), "smoke-test"], env)
    assert code == 0, out
    assert "created and cancelled at Smoke Test" in out


async def test_wait_for_services(env: dict[str, str]) -> None:
    code, out = await sh([str(TICKETERO), "wait-for-services", "--timeout", "20"], env)
    assert code == 0, out
    for name in ("postgres", "rabbitmq", "temporal", "api"):
        assert f"ok   {name}" in out


async def test_runbook_scripts(env: dict[str, str]) -> None:
    for script, expect in (
        ("scripts/verify-health.sh", "ok   metrics"),
        ("scripts/smoke-test.sh", "ok   smoke test"),
    ):
        code, out = await sh(["bash", script], env)
        assert code == 0, (script, out)
        assert expect in out


async def test_scripts_are_executable_and_strict() -> None:
    for name in (
        "wait-for-services.sh",
        "verify-health.sh",
        "smoke-test.sh",
        "backup-database.sh",
        "restore-database.sh",
    ):
        script = REPO / "scripts" / name
        assert os.access(script, os.X_OK), name
        assert "set -euo pipefail" in script.read_text(), name


async def test_deploy_follows_the_run_to_its_report(
    stack: Stack, temporal: Client, tmp_path: Path, docker: FakeDocker
) -> None:
    # Its own task queue, so only this worker serves the CLI's `<queue>-ops`.
    queue = f"cli-{uuid.uuid4().hex[:8]}"
    settings = deploy_settings(stack, tmp_path, docker)
    VersionStore(settings.var_dir / "deploy" / "versions.json").save(VersionRecord(current="3.0.0"))
    env = cli_env(stack, TEMPORAL_TASK_QUEUE=queue)
    async with deploy_worker(temporal, settings, task_queue=f"{queue}-ops"):
        code, out = await sh([str(TICKETERO), "deploy", "3.1.0"], env)
        assert code == 0, out
        workflow_id = re.search(r"started (deploy-\d{8}T\d{6}Z)", out)
        assert workflow_id, out
        assert f"/namespaces/default/workflows/{workflow_id[1]}" in out
        assert "ok   deploy.smoke_test" in out
        assert f"deploy {workflow_id[1]}: OK" in out

        code, out = await sh([str(TICKETERO), "report", workflow_id[1]], env)
        assert code == 0, out
        assert "deployed 3.1.0 (was 3.0.0)" in out

        code, out = await sh([str(TICKETERO), "runs", "--kind", "deploy"], env)
        assert code == 0 and workflow_id[1] in out
    assert docker.updates() == ["3.1.0"]


async def test_report_of_an_unknown_run_exits_1(env: dict[str, str]) -> None:
    code, out = await sh([str(TICKETERO), "report", "deploy-19990101T000000Z"], env)
    assert code == 1, out


async def test_schedules_list_and_unknown_schedule(env: dict[str, str]) -> None:
    code, out = await sh([str(TICKETERO), "schedules", "list"], env)
    assert code == 0, out
    code, out = await sh([str(TICKETERO), "schedules", "pause", "no-such-schedule"], env)
    assert code == 1, out
    assert "no schedule 'no-such-schedule'" in out


async def test_contacts_come_from_settings() -> None:
    """The runbook's escalation contacts are settings, printed by `ticketero contacts`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_L")}
    code, out = await sh(
        [str(TICKETERO), "contacts"],
        {
            **base,
            "SUPPORT_L1_CONTACT": "mesa-ops@banco.example +56 2 2000 0001",
            "SUPPORT_L2_CONTACT": "devops@banco.example",
            "SUPPORT_L3_CONTACT": "desarrollo@banco.example",
        },
    )
    assert code == 0, out
    assert "Nivel 1 - Operaciones: mesa-ops@banco.example +56 2 2000 0001" in out
    assert "Nivel 3 - Desarrollo: desarrollo@banco.example" in out
    code, out = await sh([str(TICKETERO), "contacts"], {**base, "SUPPORT_L2_CONTACT": "x"})
    assert code == 1
    assert "SUPPORT_L1_CONTACT" in out and "SUPPORT_L3_CONTACT" in out
