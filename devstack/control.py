"""The control socket of `make run`: status, restart and switch, for the owner only.

Deploys give orders to the running stack here instead of killing processes by
name. A unix socket, `<var_dir>/run/devstack.sock`, created with mode 0600 in a
0700 directory, so only the user running the stack can connect. One JSON
request per connection, one JSON line back:

    {"command": "status"}
    {"command": "restart", "name": "worker"}
    {"command": "switch", "name": "api", "python": ".../venv/bin/python",
     "cwd": ".../var/releases/1.4.0", "version": "1.4.0", "env": {...}, "overlap": true}
    {"command": "switch", "name": "api", "original": true, "overlap": true}

`switch` replaces the interpreter (so the virtual environment) a process runs
with, its directory, extra environment and the version it reports; `original`
goes back to the spec the stack started with. With `overlap` the new process
starts beside the old one, which stops once the new one is ready (the API on
its shared socket, the worker on its task queue); without it the old one stops
first (the bridge: one Telegram poller). When the new one does not become
ready the previous one is (still, or again) running and the answer says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from devstack.keeper import Keeper
from devstack.supervisor import ProcessSpec, ProcessStartError, Supervisor, SupervisorError

#: Longest request accepted (a switch with its paths is far below this).
MAX_REQUEST = 64 * 1024
REQUEST_TIMEOUT = 10.0


class ControlError(RuntimeError):
    """The control socket refused an order or could not be reached."""


def socket_path(var_dir: Path) -> Path:
    return var_dir / "run" / "devstack.sock"


class ControlServer:
    """Serves the control socket for one supervisor (and its keeper)."""

    def __init__(self, supervisor: Supervisor, keeper: Keeper | None, path: Path) -> None:
        self.supervisor = supervisor
        self.keeper = keeper
        self.path = path
        self._server: asyncio.AbstractServer | None = None
        self._lock = asyncio.Lock()  # one order at a time
        self._original: dict[str, ProcessSpec] = {}  # as the stack started them

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left behind by a stack that was killed
        old_umask = os.umask(0o177)  # the socket is born 0600: no window for others
        try:
            self._server = await asyncio.start_unix_server(
                self._handle, path=str(self.path), limit=MAX_REQUEST
            )
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                raw = await asyncio.wait_for(reader.readline(), REQUEST_TIMEOUT)
                request = json.loads(raw)
                if not isinstance(request, dict):
                    raise ValueError("the request must be a JSON object")
                async with self._lock:
                    answer = await self.dispatch(request)
            except (ValueError, TimeoutError) as err:
                answer = {"ok": False, "error": f"bad request: {err}"}
            except KeyError as err:
                answer = {"ok": False, "error": str(err.args[0])}
            except (ControlError, SupervisorError) as err:
                answer = {"ok": False, "error": str(err)}
            writer.write(json.dumps(answer).encode() + b"\n")
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        command = request.get("command")
        if command == "status":
            return {"ok": True, "processes": self.status()}
        name = request.get("name")
        if not isinstance(name, str) or name not in self.supervisor.names():
            raise ControlError(f"name: no process named {name!r}")
        self._original.setdefault(name, self.supervisor.spec(name))
        overlap = request.get("overlap", False)
        if not isinstance(overlap, bool):
            raise ControlError("overlap: must be true or false")
        if command == "restart":
            return await self._replace(name, self.supervisor.spec(name), overlap)
        if command == "switch":
            if request.get("original") is True:
                return await self._replace(name, self._original[name], overlap)
            spec = _switched(self._original[name], self.supervisor.spec(name), request)
            return await self._replace(name, spec, overlap)
        raise ControlError(f"command: unknown command {command!r} (status, restart, switch)")

    def status(self) -> list[dict[str, Any]]:
        sup = self.supervisor
        rows = []
        for name in sup.names():
            uptime = sup.uptime(name)
            rows.append(
                {
                    "name": name,
                    "pid": sup.pid(name) if sup.running(name) else None,
                    "running": sup.running(name),
                    "version": sup.spec(name).version,
                    "uptime_seconds": None if uptime is None else round(uptime, 3),
                    "restarts": self.keeper.restarts.get(name, 0) if self.keeper else 0,
                    "python": sup.spec(name).argv[0],
                    "cwd": sup.spec(name).cwd,
                    "original_version": self._original.get(name, sup.spec(name)).version,
                }
            )
        return rows

    async def _replace(self, name: str, spec: ProcessSpec, overlap: bool) -> dict[str, Any]:
        """Put `spec` in the place of `name`; the old one stays or comes back if it fails."""
        sup = self.supervisor
        if self.keeper is not None:
            self.keeper.cancel_pending(name)
        old_spec = sup.spec(name)
        old = {"pid": sup.pid(name) if sup.running(name) else None, "version": old_spec.version}
        try:
            if overlap:
                await sup.handover(spec)
            else:
                await sup.stop(name)
                await sup.start(spec)
        except ProcessStartError as err:
            if not sup.running(name):
                await sup.start(old_spec)
            return {
                "ok": False,
                "error": f"{name} did not start: {err.reason}",
                "tail": err.tail[-10:],
                "restored": True,
                "old": old,
                "new": {"pid": sup.pid(name), "version": old_spec.version},
            }
        return {"ok": True, "old": old, "new": {"pid": sup.pid(name), "version": spec.version}}


def _switched(original: ProcessSpec, current: ProcessSpec, request: dict[str, Any]) -> ProcessSpec:
    """The original spec run by another interpreter (another venv), from another directory."""
    python = request.get("python")
    if not isinstance(python, str) or not Path(python).is_file():
        raise ControlError(f"python: not an interpreter: {python!r}")
    cwd = request.get("cwd", current.cwd)
    if cwd is not None and (not isinstance(cwd, str) or not Path(cwd).is_dir()):
        raise ControlError(f"cwd: not a directory: {cwd!r}")
    version = request.get("version", current.version)
    if version is not None and not isinstance(version, str):
        raise ControlError("version: must be a string")
    extra = request.get("env", {})
    if not isinstance(extra, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in extra.items()
    ):
        raise ControlError("env: must map names to strings")
    env = {**(original.env or {}), **extra}
    argv = [python, *original.argv[1:]]
    return dataclasses.replace(original, argv=argv, cwd=cwd, version=version, env=env)


async def request(path: Path, payload: dict[str, Any], timeout: float = 180.0) -> dict[str, Any]:  # noqa: ASYNC109 - a switch waits for readiness
    """Send one order to the control socket at `path`; the JSON answer."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 5.0)
    except (OSError, TimeoutError) as err:
        raise ControlError(f"cannot reach the stack's control socket {path}: {err}") from err
    try:
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        raw = await asyncio.wait_for(reader.readline(), timeout)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    if not raw:
        raise ControlError(f"the control socket {path} closed without an answer")
    answer: dict[str, Any] = json.loads(raw)
    return answer
