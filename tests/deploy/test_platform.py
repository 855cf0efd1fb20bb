"""DockerComposeDriver against a stand-in docker: the exact commands and the version record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from ops.activities.deploy import DeployActivities
from ops.activities.platform import (
    DockerComposeDriver,
    NoContainerDriver,
    PlatformError,
    VersionRecord,
    VersionStore,
)
from ops.contracts import (
    ERR_IMAGE_NOT_FOUND,
    ERR_PLATFORM,
    ERR_SMOKE_FAILED,
    Rollout,
    SmokeCheck,
)
from settings import Settings
from tests.deploy.fakes import FakeDocker, StubHttp

COMPOSE = ["compose", "-f", "docker-compose.yml", "-p", "ticketero-prod"]


def settings_for(tmp_path: Path, docker: FakeDocker, **over: Any) -> Settings:
    values: dict[str, Any] = {
        "container_engine": "docker",
        "docker_bin": str(docker.path),
        "compose_file": Path("docker-compose.yml"),
        "compose_project": "ticketero-prod",
        "deploy_service": "api",
        "deploy_image": "ticketero-api",
        "var_dir": tmp_path / "var",
    }
    values.update(over)
    return Settings(**values)


async def test_pull_runs_docker_pull_of_the_image_tag(tmp_path: Path, docker: FakeDocker) -> None:
    driver = DockerComposeDriver(settings_for(tmp_path, docker))
    result = await driver.pull_image("1.4.0")
    assert [c.argv for c in docker.calls()] == [["pull", "ticketero-api:1.4.0"]]
    assert result.exit_code == 0
    assert "Downloaded" in result.output
    assert result.argv == [str(docker.path), "pull", "ticketero-api:1.4.0"]


async def test_rolling_update_is_compose_up_no_deps_with_the_version(
    tmp_path: Path, docker: FakeDocker
) -> None:
    store = VersionStore(tmp_path / "versions.json")
    store.save(VersionRecord(current="1.3.0", previous="1.2.0"))
    driver = DockerComposeDriver(settings_for(tmp_path, docker), store)

    await driver.rolling_update("1.4.0")

    [call] = docker.calls()
    assert call.argv == [*COMPOSE, "up", "-d", "--no-deps", "api"]
    assert (call.image, call.version) == ("ticketero-api", "1.4.0")
    assert await driver.current_version() == "1.4.0"
    assert await driver.previous_version() == "1.3.0"


async def test_rollback_is_the_same_command_on_the_previous_version(
    tmp_path: Path, docker: FakeDocker
) -> None:
    store = VersionStore(tmp_path / "versions.json")
    store.save(VersionRecord(current="1.4.0", previous="1.3.0"))
    driver = DockerComposeDriver(settings_for(tmp_path, docker), store)

    previous = await driver.previous_version()
    assert previous == "1.3.0"
    await driver.rolling_update(previous)

    assert docker.updates() == ["1.3.0"]
    assert docker.calls()[0].argv == [*COMPOSE, "up", "-d", "--no-deps", "api"]
    assert store.load().current == "1.3.0"


async def test_failed_update_raises_with_output_and_keeps_the_record(
    tmp_path: Path, docker: FakeDocker
) -> None:
    docker.answer("up", exit_code=1, output="Error response from daemon: conflict")
    store = VersionStore(tmp_path / "versions.json")
    store.save(VersionRecord(current="1.3.0", previous="1.2.0"))
    driver = DockerComposeDriver(settings_for(tmp_path, docker), store)

    with pytest.raises(PlatformError) as caught:
        await driver.rolling_update("1.4.0")

    assert caught.value.retryable
    assert "conflict" in str(caught.value)
    assert caught.value.result is not None and caught.value.result.exit_code == 1
    assert store.load().current == "1.3.0"


async def test_unknown_tag_is_permanent_a_registry_hiccup_is_not(
    tmp_path: Path, docker: FakeDocker
) -> None:
    driver = DockerComposeDriver(settings_for(tmp_path, docker))
    docker.answer("pull:9.9.9", exit_code=1, output="manifest for ticketero-api:9.9.9 not found")
    docker.answer("pull:1.4.0", exit_code=1, output="net/http: TLS handshake timeout")

    with pytest.raises(PlatformError) as unknown:
        await driver.pull_image("9.9.9")
    with pytest.raises(PlatformError) as hiccup:
        await driver.pull_image("1.4.0")

    assert not unknown.value.retryable
    assert hiccup.value.retryable


async def test_running_version_is_read_from_compose_when_the_record_is_missing(
    tmp_path: Path, docker: FakeDocker
) -> None:
    docker.answer(
        "images",
        output='[{"ContainerName":"ticketero-prod-api-1","Repository":"ticketero-api",'
        '"Tag":"1.3.0","ID":"sha256:abc"}]',
    )
    driver = DockerComposeDriver(settings_for(tmp_path, docker))

    assert await driver.current_version() == "1.3.0"
    assert docker.calls()[0].argv == [*COMPOSE, "images", "--format", "json", "api"]
    assert await driver.previous_version() is None


async def test_missing_docker_is_a_permanent_platform_error(tmp_path: Path) -> None:
    docker = FakeDocker(tmp_path / "bin")
    settings = settings_for(tmp_path, docker, docker_bin=str(tmp_path / "no-such-docker"))
    with pytest.raises(PlatformError) as caught:
        await DockerComposeDriver(settings).pull_image("1.4.0")
    assert not caught.value.retryable


async def test_without_a_container_engine_only_versions_are_recorded(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "versions.json")
    driver = NoContainerDriver(store)
    assert (await driver.pull_image("1.0.0")).argv == []
    await driver.rolling_update("1.0.0")
    await driver.rolling_update("1.1.0")
    assert store.load().model_dump(include={"current", "previous"}) == {
        "current": "1.1.0",
        "previous": "1.0.0",
    }


# --- the activities turn failures into the errors the retry policies name ---------


async def test_pull_activity_unknown_tag_is_non_retryable(
    tmp_path: Path, docker: FakeDocker
) -> None:
    docker.answer("pull", exit_code=1, output="manifest unknown")
    acts = DeployActivities(settings_for(tmp_path, docker))
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(acts.pull_image, "9.9.9")
    assert caught.value.type == ERR_IMAGE_NOT_FOUND
    assert caught.value.non_retryable


async def test_update_activity_failure_is_retryable_missing_docker_is_not(
    tmp_path: Path, docker: FakeDocker
) -> None:
    docker.answer("up", exit_code=1, output="daemon busy")
    acts = DeployActivities(settings_for(tmp_path, docker))
    with pytest.raises(ApplicationError) as busy:
        await ActivityEnvironment().run(acts.rolling_update, Rollout(version="1.4.0"))
    assert not busy.value.non_retryable

    gone = DeployActivities(settings_for(tmp_path, docker, docker_bin=str(tmp_path / "nope")))
    with pytest.raises(ApplicationError) as missing:
        await ActivityEnvironment().run(gone.rolling_update, Rollout(version="1.4.0"))
    assert missing.value.type == ERR_PLATFORM
    assert missing.value.non_retryable


async def test_smoke_activity_wrong_answer_is_final_unreachable_is_retryable(
    tmp_path: Path, docker: FakeDocker
) -> None:
    stub = StubHttp(
        {
            ("GET", "/actuator/health"): (200, {"status": "UP"}),
            ("POST", "/api/tickets"): (422, {"message": "branchOffice: is required"}),
        }
    )
    port = await stub.start()
    acts = DeployActivities(settings_for(tmp_path, docker))
    try:
        with pytest.raises(ApplicationError) as wrong:
            await ActivityEnvironment().run(
                acts.smoke_test, SmokeCheck(base_url=f"http://127.0.0.1:{port}", key="k1")
            )
    finally:
        await stub.stop()
    assert wrong.value.type == ERR_SMOKE_FAILED
    assert wrong.value.non_retryable
    assert "422" in wrong.value.message

    with pytest.raises(ApplicationError) as unreachable:
        await ActivityEnvironment().run(
            acts.smoke_test, SmokeCheck(base_url=f"http://127.0.0.1:{port}", key="k2")
        )
    assert not unreachable.value.non_retryable
