"""The process driver: deploys onto the processes `make run` supervises, no containers.

Selected by `container_engine = none` (the default of `make run`). A version is
a release built by `make release` (ops/releases.py):

- `pull_image` verifies the wheel's sha256 and installs it, offline, into
  `<var_dir>/releases/<version>/venv`;
- `rolling_update` rolls the processes onto that venv through the stack's
  control socket (`<var_dir>/run/devstack.sock`, owner-only; see
  devstack/control.py), one at a time: the API first, started beside the old
  one on the shared socket, then held to the health gate and the runbook's
  smoke test; then the worker, also beside the old one, which then drains
  (SIGTERM: it finishes its in-flight tasks); then the bridge, stopped before
  its successor starts (one Telegram poller). A version that has no release
  but is the one the stack started with goes back to the stack's own
  environment. A gate that fails raises, and the deploy saga rolls back.

The ops worker, which runs these activities, is not rolled: it would kill the
deploy it runs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ops import releases
from ops.activities.platform import CommandResult, PlatformError, VersionStore
from ops.checks import (
    HealthTimeoutError,
    SmokeFailure,
    SmokeUnavailable,
    run_smoke_test,
    smoke_base_url,
    wait_until_up,
)
from settings import Settings

#: Process name and whether the new one starts before the old one stops.
ROLL_ORDER: tuple[tuple[str, bool], ...] = (("api", True), ("worker", True), ("bridge", False))
CONTROL_TIMEOUT = 240.0


class ProcessDriver:
    """Releases from var/releases, rolled through `make run`'s control socket."""

    def __init__(self, settings: Settings, store: VersionStore) -> None:
        self._settings = settings
        self.store = store
        self._var = settings.var_dir.resolve()
        self._releases = releases.releases_dir(self._var)
        self.socket = self._var / "run" / "devstack.sock"

    async def current_version(self) -> str | None:
        recorded = self.store.load().current
        if recorded is not None:
            return recorded
        try:
            api = (await self.status()).get("api")
        except PlatformError:
            return None
        return api.get("version") if api else None

    async def previous_version(self) -> str | None:
        return self.store.load().previous

    async def pull_image(self, version: str) -> CommandResult:
        """Verify the release's checksum and install it into its own venv."""
        started = time.monotonic()
        try:
            release = releases.find(self._releases, version)
            await asyncio.to_thread(releases.verify, release)
            argv = await asyncio.to_thread(releases.install, release, self._releases)
        except releases.ReleaseError as err:
            # Not found, tampered or not installable: no retry will fix it.
            failed = CommandResult(argv=["install", version], exit_code=1, output=str(err))
            raise PlatformError(str(err), failed, retryable=False) from err
        env_file = Path.cwd() / ".env"
        link = self._releases / releases.normalized(version) / ".env"
        if env_file.is_file() and not link.exists():
            link.symlink_to(env_file)  # the processes read .env from their directory
        return CommandResult(
            argv=argv,
            output=f"sha256 {release.sha256} ok; installed {release.wheel.name} into "
            f"{releases.venv_dir(self._releases, version)}",
            seconds=round(time.monotonic() - started, 3),
        )

    async def rolling_update(self, version: str) -> CommandResult:
        """api (gate + smoke test), worker (drained), bridge onto `version`; then record it."""
        started = time.monotonic()
        status = await self.status()
        target = self._target(version, status)
        moved: list[dict[str, Any]] = []
        for name, overlap in ROLL_ORDER:
            row = status.get(name)
            if row is None:
                continue
            if row["running"] and row["version"] == version:
                moved.append(_moved(name, row["pid"], row["version"], row["pid"], version, False))
                continue
            switch = {"command": "switch", "name": name, "overlap": overlap, **target}
            answer = await self.order(switch)
            new = answer.get("new") or {}
            moved.append(
                _moved(name, row["pid"], row["version"], new.get("pid"), new.get("version"), True)
            )
            if not answer.get("ok"):
                raise PlatformError(
                    f"{name} on {version} did not start: {answer.get('error')}; "
                    f"{name} still runs {row['version']}",
                    _result(version, moved, started, 1),
                    retryable=False,
                )
            if name == "api":
                await self._gate(version, moved, started)
        self.store.advance(version)
        return _result(version, moved, started, 0)

    async def status(self) -> dict[str, dict[str, Any]]:
        answer = await self.order({"command": "status"})
        return {row["name"]: row for row in answer.get("processes", [])}

    async def order(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One order to the control socket; its JSON answer."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.socket)), 5.0
            )
        except (OSError, TimeoutError) as err:
            raise PlatformError(
                f"cannot reach make run's control socket {self.socket} ({err}): is the stack "
                "running under `make run`? (with containers, set CONTAINER_ENGINE=docker)",
                None,
                retryable=True,
            ) from err
        try:
            writer.write(json.dumps(payload).encode() + b"\n")
            await writer.drain()
            raw = await asyncio.wait_for(reader.readline(), CONTROL_TIMEOUT)
        finally:
            writer.close()
        if not raw:
            raise PlatformError("the control socket closed without answering", None, retryable=True)
        answer: dict[str, Any] = json.loads(raw)
        if payload["command"] == "status" and not answer.get("ok"):
            raise PlatformError(f"status refused: {answer.get('error')}", None, retryable=True)
        return answer

    def _target(self, version: str, status: dict[str, dict[str, Any]]) -> dict[str, Any]:
        python = releases.venv_python(self._releases, version)
        if python.is_file():
            s = self._settings
            env = {
                # The release runs from its own directory: relative paths would move.
                "VAR_DIR": str(self._var),
                "LOG_DIR": str(s.log_dir.resolve()),
                "BACKUP_DIR": str(s.backup_dir.resolve()),
            }
            home = python.parent.parent.parent
            return {"python": str(python), "cwd": str(home), "version": version, "env": env}
        api = status.get("api") or {}
        if api.get("original_version") == version:
            return {"original": True}
        raise PlatformError(
            f"no release {version} installed under {self._releases} "
            f"(make release VERSION={version}, then ticketero deploy {version})",
            CommandResult(argv=["switch", version], exit_code=1, output="not installed"),
            retryable=False,
        )

    async def _gate(self, version: str, moved: list[dict[str, Any]], started: float) -> None:
        """The new API must report UP and pass the smoke test before anything else moves."""
        s = self._settings
        deadline = datetime.now(UTC) + timedelta(seconds=s.deploy_health_timeout_seconds)
        try:
            await wait_until_up(s.deploy_health_url, deadline)
            await run_smoke_test(smoke_base_url(s), f"smoke-process-{uuid.uuid4().hex}")
        except HealthTimeoutError as err:
            why = f"did not report UP within {s.deploy_health_timeout_seconds:g}s"
            raise PlatformError(
                f"api {version} {why}; last: {err.last.describe()}",
                _result(version, moved, started, 1),
                retryable=False,
            ) from err
        except (SmokeFailure, SmokeUnavailable) as err:
            raise PlatformError(
                f"api {version} failed the smoke test: {err}",
                _result(version, moved, started, 1),
                retryable=False,
            ) from err


def _moved(
    name: str,
    old_pid: int | None,
    old_version: str | None,
    new_pid: int | None,
    new_version: str | None,
    switched: bool,
) -> dict[str, Any]:
    return {
        "process": name,
        "old_pid": old_pid,
        "old_version": old_version,
        "new_pid": new_pid,
        "new_version": new_version,
        "switched": switched,
    }


def _result(version: str, moved: list[dict[str, Any]], started: float, code: int) -> CommandResult:
    lines = [
        f"{m['process']}: pid {m['old_pid']} ({m['old_version']}) -> "
        f"pid {m['new_pid']} ({m['new_version']})" + ("" if m["switched"] else ", already there")
        for m in moved
    ]
    return CommandResult(
        argv=["devstack-control", "switch", version],
        exit_code=code,
        output="\n".join(lines),
        seconds=round(time.monotonic() - started, 3),
        processes=moved,
    )
