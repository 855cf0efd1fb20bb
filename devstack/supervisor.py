"""A small asyncio process supervisor.

Used by `python -m devstack run` (and so `make run`) and by the pytest fixtures
that start the stack. Every child gets its own process group so a stop reaches
everything it spawned, its stdout and stderr are merged and streamed line by
line (prefixed ``[name] ``) to our stdout and/or a log file, and `start` only
returns once the child is ready (an HTTP URL answers, a TCP port accepts
connections) or raises with the child's last output lines.

Restart policies live in `devstack.keeper`, orders from outside (status,
restart, switch) in `devstack.control`; README "Running it" says why this stays
hand-written rather than a maintained process manager.

Long because process groups, readiness probes, log streaming and restarts interlock.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

#: How many output lines each child keeps in memory.
OUTPUT_LINES = 2000
#: How many of them an error message shows.
ERROR_TAIL_LINES = 30
#: Longest single output line read from a child (longer ones are cut).
LINE_LIMIT = 1 << 20


@dataclass
class ProcessSpec:
    """What to run and how to tell it is ready."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None  # merged over os.environ
    cwd: str | None = None
    ready_url: str | None = None  # HTTP GET answering <500 means ready
    ready_port: int | None = None  # or: TCP port (on 127.0.0.1) accepting connections
    ready_timeout: float = 60.0
    stop_timeout: float = 10.0
    version: str | None = None  # what the control interface reports (a deploy sets it)
    ready_line: str | None = None  # or: ready once a line of its output contains this
    pass_fds: tuple[int, ...] = ()  # descriptors it inherits (a shared listening socket)


class SupervisorError(RuntimeError):
    """Base class of the errors the supervisor raises."""


class ProcessStartError(SupervisorError):
    """A child exited, or did not become ready, during `Supervisor.start`."""

    def __init__(self, name: str, reason: str, tail: list[str], returncode: int | None) -> None:
        self.name = name
        self.reason = reason
        self.tail = tail
        self.returncode = returncode
        lines = "\n".join(f"  [{name}] {line}" for line in tail) or "  (no output)"
        super().__init__(f"{name}: {reason}; last output lines:\n{lines}")


# Process groups still alive, killed at interpreter exit if nobody stopped them
# (a crashed test session, an unhandled exception in `make run`).
_LIVE_GROUPS: set[int] = set()


@atexit.register
def kill_leftover_groups() -> None:
    """SIGKILL every child process group nobody stopped (also run at exit)."""
    for pgid in list(_LIVE_GROUPS):
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)
    _LIVE_GROUPS.clear()


def _signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to a process group; False when the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


@dataclass
class _Child:
    spec: ProcessSpec
    proc: asyncio.subprocess.Process
    output: deque[str]
    log: IO[str] | None
    pump: asyncio.Task[None]
    watcher: asyncio.Task[int] | None = None
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    ready: bool = False  # start() returned: from now on an exit is news
    intentional: bool = False  # stop()/kill(): the exit is not "unexpected"
    started: float = field(default_factory=time.monotonic)
    line_seen: asyncio.Event = field(default_factory=asyncio.Event)  # spec.ready_line printed

    @property
    def pgid(self) -> int:
        return self.proc.pid  # start_new_session=True: the child leads its own group

    @property
    def running(self) -> bool:
        return self.proc.returncode is None


class Supervisor:
    """Starts, watches and stops named child processes."""

    def __init__(self, log_dir: Path | None = None, echo: bool = True) -> None:
        self.log_dir = log_dir
        self.echo = echo
        self._children: dict[str, _Child] = {}
        self._order: list[str] = []  # start order of the current incarnations
        self._unexpected: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self._outputs: dict[str, deque[str]] = {}

    # -- public API ---------------------------------------------------------

    async def start(self, spec: ProcessSpec) -> None:
        """Spawn `spec` in its own process group and wait until it is ready."""
        current = self._children.get(spec.name)
        if current is not None and current.running:
            raise SupervisorError(f"{spec.name}: already running (pid {current.proc.pid})")
        if current is not None:
            await self._reap(current)
        child = await self._spawn(spec)
        self._children[spec.name] = child
        if spec.name in self._order:
            self._order.remove(spec.name)
        self._order.append(spec.name)
        await self._ready_or_terminate(child)

    async def handover(self, spec: ProcessSpec) -> None:
        """Start `spec` beside the running process of its name, then stop the old one.

        For processes that may overlap (an API on a shared socket, a worker on a
        task queue): the old one serves until the new one is ready. When the new
        one does not become ready the old one is left running and this raises.
        """
        old = self._children.get(spec.name)
        if old is None or not old.running:
            await self.start(spec)
            return
        new = await self._spawn(spec)
        await self._ready_or_terminate(new)
        self._children[spec.name] = new
        old.intentional = True
        await self._terminate(old, old.spec.stop_timeout)

    async def stop(self, name: str) -> int | None:
        """SIGTERM the child's group, SIGKILL it after `stop_timeout`; return the exit code."""
        child = self._children.get(name)
        if child is None:
            return None
        if not child.running:
            await self._reap(child)
            _signal_group(child.pgid, signal.SIGKILL)  # whatever it left behind in its group
            return child.proc.returncode
        child.intentional = True
        return await self._terminate(child, child.spec.stop_timeout)

    async def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the child's whole group (e.g. kill a worker mid-flight).

        The resulting exit is not reported by `wait_any_exit`. With SIGKILL
        this waits until the child has exited, so `restart` can follow at once.
        """
        child = self._child(name)
        if not child.running:
            return
        if sig not in (signal.SIGSTOP, signal.SIGCONT):
            child.intentional = True
        _signal_group(child.pgid, sig)
        if sig == signal.SIGKILL:
            await self._reap(child)

    async def restart(self, name: str) -> None:
        """Stop the child if it still runs, then start the same spec again."""
        child = self._child(name)
        if child.running:
            await self.stop(name)
        else:
            await self._reap(child)
        await self.start(child.spec)

    async def stop_all(self) -> None:
        """Stop every child, in reverse start order, each waited for."""
        for name in reversed(list(self._order)):
            await self.stop(name)

    def pid(self, name: str) -> int:
        return self._child(name).proc.pid

    def spec(self, name: str) -> ProcessSpec:
        """The spec the current (or last) incarnation of `name` was started from."""
        return self._child(name).spec

    def uptime(self, name: str) -> float | None:
        """Seconds since `name` was started, None when it is not running."""
        child = self._child(name)
        return time.monotonic() - child.started if child.running else None

    def log_path(self, name: str) -> Path | None:
        """The file `name`'s output goes to, when the supervisor keeps logs."""
        return None if self.log_dir is None else self.log_dir / f"{name}.log"

    def returncode(self, name: str) -> int | None:
        return self._child(name).proc.returncode

    def running(self, name: str) -> bool:
        child = self._children.get(name)
        return child is not None and child.running

    def names(self) -> list[str]:
        """Children in start order (running or not)."""
        return list(self._order)

    def output(self, name: str) -> list[str]:
        """Captured output lines of `name` (all incarnations, the last 2000)."""
        if name not in self._outputs:
            raise KeyError(name)
        return list(self._outputs[name])

    async def wait_any_exit(self) -> tuple[str, int]:
        """Wait for the first child that exits on its own; return (name, exit code)."""
        return await self._unexpected.get()

    async def __aenter__(self) -> Supervisor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_all()

    # -- internals ----------------------------------------------------------

    async def _spawn(self, spec: ProcessSpec) -> _Child:
        if not spec.argv:
            raise SupervisorError(f"{spec.name}: empty argv")
        env = dict(os.environ)
        if spec.env:
            env.update(spec.env)
        output = self._outputs.setdefault(spec.name, deque(maxlen=OUTPUT_LINES))
        log = self._open_log(spec.name)
        try:
            proc = await asyncio.create_subprocess_exec(
                *spec.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                cwd=spec.cwd,
                start_new_session=True,
                limit=LINE_LIMIT,
                pass_fds=spec.pass_fds,
            )
        except OSError as exc:
            if log is not None:
                log.close()
            raise ProcessStartError(
                spec.name, f"cannot start {spec.argv[0]!r}: {exc}", [], None
            ) from exc
        _LIVE_GROUPS.add(proc.pid)
        if log is not None:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} started pid {proc.pid}\n")
            log.flush()
        assert proc.stdout is not None
        line_seen = asyncio.Event()
        pump = asyncio.create_task(
            self._pump(spec.name, proc.stdout, output, log, (spec.ready_line, line_seen))
        )
        child = _Child(spec=spec, proc=proc, output=output, log=log, pump=pump, line_seen=line_seen)
        child.watcher = asyncio.create_task(self._watch(child))
        return child

    async def _ready_or_terminate(self, child: _Child) -> None:
        try:
            await self._wait_ready(child)
        except BaseException:
            # Not ready, cancelled (Ctrl-C during startup), ...: do not leave it behind.
            child.intentional = True
            await asyncio.shield(self._terminate(child, child.spec.stop_timeout))
            raise
        child.ready = True

    def _child(self, name: str) -> _Child:
        try:
            return self._children[name]
        except KeyError:
            raise KeyError(f"no process named {name!r}") from None

    def _open_log(self, name: str) -> IO[str] | None:
        if self.log_dir is None:
            return None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return (self.log_dir / f"{name}.log").open("a", encoding="utf-8")

    async def _pump(
        self,
        name: str,
        stream: asyncio.StreamReader,
        output: deque[str],
        log: IO[str] | None,
        marker: tuple[str | None, asyncio.Event],
    ) -> None:
        prefix = f"[{name}] "
        wanted, seen = marker
        echo = self.echo
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than LINE_LIMIT: the reader dropped it
                raw = b"<output line too long, dropped>\n"
            if not raw:
                break
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            output.append(line)
            if wanted is not None and wanted in line:
                seen.set()
            if echo:
                try:
                    sys.stdout.write(prefix + line + "\n")
                    sys.stdout.flush()
                except (OSError, ValueError):  # our stdout went away: keep draining the child
                    echo = False
            if log is not None:
                try:
                    log.write(line + "\n")
                    log.flush()
                except (OSError, ValueError):
                    log = None

    async def _watch(self, child: _Child) -> int:
        code = await child.proc.wait()
        _LIVE_GROUPS.discard(child.pgid)
        # Let the pump drain what the child wrote last; a grandchild that keeps
        # the pipe open must not hold us up.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(child.pump), timeout=2.0)
        if child.log is not None:
            with contextlib.suppress(Exception):
                child.log.write(f"--- exited with code {code}\n")
                child.log.flush()
        child.exited.set()
        if child.ready and not child.intentional:
            await self._unexpected.put((child.spec.name, code))
        return code

    async def _reap(self, child: _Child) -> None:
        await child.exited.wait()
        if not child.pump.done():
            child.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await child.pump
        if child.log is not None and not child.log.closed:
            child.log.close()

    async def _terminate(self, child: _Child, grace: float) -> int | None:
        """SIGTERM, wait, SIGKILL; also sweep up group members left behind."""
        if child.running:
            _signal_group(child.pgid, signal.SIGTERM)
            try:
                await asyncio.wait_for(child.exited.wait(), timeout=grace)
            except TimeoutError:
                _signal_group(child.pgid, signal.SIGKILL)
        await self._reap(child)
        # The leader is gone; members that ignored SIGTERM must not linger.
        _signal_group(child.pgid, signal.SIGKILL)
        return child.proc.returncode

    async def _wait_ready(self, child: _Child) -> None:
        spec = child.spec
        deadline = time.monotonic() + spec.ready_timeout
        interval = 0.02
        async with httpx.AsyncClient(timeout=1.0, trust_env=False) as http:
            while True:
                if child.exited.is_set() or not child.running:
                    await child.exited.wait()
                    code = child.proc.returncode
                    raise ProcessStartError(
                        spec.name,
                        f"exited with code {code} before it was ready",
                        list(child.output)[-ERROR_TAIL_LINES:],
                        code,
                    )
                if child.line_seen.is_set() or await self._is_ready(spec, http):
                    if child.running:
                        return
                    continue  # it died meanwhile: report that above
                if time.monotonic() >= deadline:
                    raise ProcessStartError(
                        spec.name,
                        f"not ready after {spec.ready_timeout:g}s ({_ready_what(spec)})",
                        list(child.output)[-ERROR_TAIL_LINES:],
                        None,
                    )
                # Wake up early if the child exits while we wait.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(child.exited.wait(), timeout=interval)
                interval = min(interval * 1.5, 0.25)

    @staticmethod
    async def _is_ready(spec: ProcessSpec, http: httpx.AsyncClient) -> bool:
        if spec.ready_line is not None:
            return False  # only the line says so (`line_seen`)
        if spec.ready_url is not None:
            try:
                response = await http.get(spec.ready_url)
            except httpx.HTTPError:
                return False
            return response.status_code < 500
        if spec.ready_port is not None:
            return await port_open("127.0.0.1", spec.ready_port)
        return True  # nothing to wait for: alive is ready


def _ready_what(spec: ProcessSpec) -> str:
    if spec.ready_line is not None:
        return f"it did not print {spec.ready_line!r}"
    if spec.ready_url is not None:
        return f"GET {spec.ready_url} did not answer <500"
    if spec.ready_port is not None:
        return f"nothing accepted connections on 127.0.0.1:{spec.ready_port}"
    return "no readiness check"


async def port_open(host: str, port: int, connect_timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), connect_timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
