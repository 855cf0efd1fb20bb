"""The container platform a deploy drives, and the record of which version runs.

`PlatformDriver` is what the deploy activities need from a platform: the
running and previous versions, pulling an image and rolling the API service
onto a version. Without a container engine (`make run`) the process driver in
ops/activities/processes.py installs releases and rolls the supervised
processes. `DockerComposeDriver` runs the runbook's commands for real:

    docker pull <deploy_image>:<version>
    docker compose -f <compose_file> -p <compose_project> up -d --no-deps <deploy_service>

`docker-compose.yml` names the image `${TICKETERO_IMAGE}:${TICKETERO_VERSION}`,
so the version reaches compose through those two variables (the runbook's
`up -d --no-deps api:<version>` is not compose syntax).

Version record: a small JSON file, `<var_dir>/deploy/versions.json`, holding
`current`, `previous` and `updated_at`. It lives beside the compose project,
on the host of the ops worker that runs these commands (it needs the docker
CLI and the compose file anyway). Written atomically (temp file + rename).
If the file is lost, the running version is read back from
`docker compose images` so the next failed deploy can still roll back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from settings import Settings

#: Output kept per command: enough to explain a failure, small enough for a payload.
OUTPUT_TAIL = 4000
PULL_TIMEOUT_SECONDS = 900.0
UPDATE_TIMEOUT_SECONDS = 600.0
QUERY_TIMEOUT_SECONDS = 60.0
#: Words in `docker pull` output that no retry will fix.
_PERMANENT_PULL_ERRORS = ("manifest unknown", "not found", "invalid reference", "denied")


class CommandResult(BaseModel):
    """One platform command as it ran; an empty `argv` means nothing had to run."""

    argv: list[str]
    exit_code: int = 0
    output: str = ""
    seconds: float = 0.0
    #: Per process rolled (process driver): old and new pid and version.
    processes: list[dict[str, Any]] = []


class PlatformError(Exception):
    """A platform command failed; `retryable` says whether running it again may help."""

    def __init__(self, message: str, result: CommandResult | None, *, retryable: bool) -> None:
        super().__init__(message)
        self.result = result
        self.retryable = retryable


class VersionRecord(BaseModel):
    """Which version runs now and which ran before it (the rollback target)."""

    current: str | None = None
    previous: str | None = None
    updated_at: datetime | None = None


class VersionStore:
    """The version record as a JSON file; one writer at a time (deploys do not overlap)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_settings(cls, settings: Settings) -> VersionStore:
        return cls(settings.var_dir / "deploy" / "versions.json")

    def load(self) -> VersionRecord:
        """The record, or an empty one when the file is missing or unreadable."""
        try:
            return VersionRecord.model_validate_json(self.path.read_bytes())
        except (OSError, ValidationError):
            return VersionRecord()

    def save(self, record: VersionRecord) -> VersionRecord:
        stamped = record.model_copy(update={"updated_at": datetime.now(UTC)})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(stamped.model_dump_json(indent=2) + "\n")
        os.replace(tmp, self.path)
        return stamped

    def advance(self, version: str) -> VersionRecord:
        """`version` now runs; the one it replaced becomes the rollback target."""
        record = self.load()
        if record.current == version:
            return self.save(record)
        return self.save(VersionRecord(current=version, previous=record.current))


class PlatformDriver(Protocol):
    """What a deploy needs from the platform running the API."""

    async def current_version(self) -> str | None: ...

    async def previous_version(self) -> str | None: ...

    async def pull_image(self, version: str) -> CommandResult: ...

    async def rolling_update(self, version: str) -> CommandResult: ...


class DockerComposeDriver:
    """The runbook's docker commands, run as subprocesses with their output captured."""

    def __init__(self, settings: Settings, store: VersionStore | None = None) -> None:
        self._docker = settings.docker_bin
        self._compose = [
            "compose",
            "-f",
            str(settings.compose_file),
            "-p",
            settings.compose_project,
        ]
        self._service = settings.deploy_service
        self._image = settings.deploy_image
        self.store = store or VersionStore.for_settings(settings)

    def image_ref(self, version: str) -> str:
        return f"{self._image}:{version}"

    async def current_version(self) -> str | None:
        recorded = self.store.load().current
        return recorded if recorded is not None else await self._running_tag()

    async def previous_version(self) -> str | None:
        return self.store.load().previous

    async def pull_image(self, version: str) -> CommandResult:
        result = await self._run(["pull", self.image_ref(version)], {}, PULL_TIMEOUT_SECONDS)
        if result.exit_code != 0:
            permanent = any(word in result.output.lower() for word in _PERMANENT_PULL_ERRORS)
            raise PlatformError(
                f"docker pull {self.image_ref(version)} exited {result.exit_code}: "
                f"{_last_line(result.output)}",
                result,
                retryable=not permanent,
            )
        return result

    async def rolling_update(self, version: str) -> CommandResult:
        """Recreate the service's containers on `version`, then record it as current."""
        argv = [*self._compose, "up", "-d", "--no-deps", self._service]
        env = {"TICKETERO_IMAGE": self._image, "TICKETERO_VERSION": version}
        result = await self._run(argv, env, UPDATE_TIMEOUT_SECONDS)
        if result.exit_code != 0:
            raise PlatformError(
                f"docker compose up {self._service} ({self.image_ref(version)}) exited "
                f"{result.exit_code}: {_last_line(result.output)}",
                result,
                retryable=True,
            )
        self.store.advance(version)
        return result

    async def _running_tag(self) -> str | None:
        """The image tag compose reports for the service, when the record is missing."""
        argv = [*self._compose, "images", "--format", "json", self._service]
        try:
            result = await self._run(argv, {}, QUERY_TIMEOUT_SECONDS)
        except PlatformError:
            return None
        if result.exit_code != 0:
            return None
        try:
            rows = json.loads(result.output or "[]")
        except json.JSONDecodeError:
            return None
        for row in rows if isinstance(rows, list) else [rows]:
            if isinstance(row, dict) and row.get("Repository") == self._image:
                tag = row.get("Tag")
                if isinstance(tag, str) and tag and tag != "<none>":
                    return tag
        return None

    async def _run(self, args: list[str], env: dict[str, str], timeout: float) -> CommandResult:  # noqa: ASYNC109 - kills the child at the deadline
        argv = [self._docker, *args]
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
                env={**os.environ, **env},
            )
        except OSError as err:
            raise PlatformError(f"cannot run {self._docker}: {err}", None, retryable=False) from err
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except (TimeoutError, asyncio.CancelledError) as err:
            # Never leave a half-done docker command behind a cancelled or late activity.
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            if isinstance(err, TimeoutError):
                raise PlatformError(
                    f"{' '.join(args[:2])} did not finish within {timeout:g}s", None, retryable=True
                ) from err
            raise
        return CommandResult(
            argv=argv,
            exit_code=proc.returncode if proc.returncode is not None else -1,
            output=out.decode(errors="replace")[-OUTPUT_TAIL:],
            seconds=round(time.monotonic() - started, 3),
        )


class NoContainerDriver:
    """Records versions only: nothing to pull or recreate (kept for tests of the saga).

    `container_engine = none` uses the process driver (ops/activities/processes.py).
    """

    def __init__(self, store: VersionStore) -> None:
        self.store = store

    async def current_version(self) -> str | None:
        return self.store.load().current

    async def previous_version(self) -> str | None:
        return self.store.load().previous

    async def pull_image(self, version: str) -> CommandResult:
        return CommandResult(argv=[], output="container_engine is none: no image to pull")

    async def rolling_update(self, version: str) -> CommandResult:
        self.store.advance(version)
        return CommandResult(argv=[], output="container_engine is none: version recorded only")


def make_driver(settings: Settings, store: VersionStore | None = None) -> PlatformDriver:
    """The driver `settings.container_engine` names, sharing `store` with the caller."""
    versions = store or VersionStore.for_settings(settings)
    if settings.container_engine == "docker":
        return DockerComposeDriver(settings, versions)
    from ops.activities.processes import ProcessDriver  # it builds on this module

    return ProcessDriver(settings, versions)


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
