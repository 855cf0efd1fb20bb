"""`python -m devstack run` (what `make run` execs) as a test fixture, on free ports.

Its own database, vhost, Temporal dev server and var dir; the caller gets the
process, its output lines, the API URL and the control socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from devstack import services
from devstack.control import request as control_request
from devstack.control import socket_path
from devstack.ephemeral import MANAGEMENT, PG, REPO, free_port
from tests.support.wait import eventually

BRANCH = "Sucursal Centro"  # devstack.seed's demo branch


@dataclass
class RunningStack:
    proc: asyncio.subprocess.Process
    api: str
    control: Path
    database_url: str
    var: Path
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)


async def _pump(stream: asyncio.StreamReader, lines: list[str]) -> None:
    while raw := await stream.readline():
        lines.append(raw.decode(errors="replace").rstrip())


@contextlib.asynccontextmanager
async def make_run_stack(
    tmp_path: Path, tag: str, extra_env: dict[str, str] | None = None
) -> AsyncIterator[RunningStack]:
    """`python -m devstack run` until it says it is running; SIGINT and cleanup after."""
    tag = f"{tag}{os.getpid()}"
    database_url = PG.format(user="ticketero", db=f"ticketero_test_{tag}")
    vhost = f"ticketero_test_{tag}"
    api_port = free_port()
    var = Path(f"/tmp/devstack-{tag}")  # short: a unix socket path has ~100 characters
    env = {
        **os.environ,
        "APP_ENV": "dev",
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        "RABBITMQ_MANAGEMENT_URL": MANAGEMENT,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TEMPORAL_UI_URL": f"http://127.0.0.1:{free_port()}",
        "TEMPORAL_TASK_QUEUE": f"ticketero-{tag}",
        "API_PORT": str(api_port),
        "API_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(free_port()),
        "SANDBOX_HOST": "127.0.0.1",
        "TELEGRAM_BOT_TOKEN": "",
        "VAR_DIR": str(var),
        "LOG_DIR": str(var / "logs"),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "WORKER_METRICS_PORT": str(free_port()),
        "WORKER_SDK_METRICS_PORT": str(free_port()),
        "BRIDGE_METRICS_PORT": str(free_port()),
        "OPS_WORKER_METRICS_PORT": str(free_port()),
        "TICKET_RATE_LIMIT": "100000/minute",
        "PYTHONUNBUFFERED": "1",
        # The deploy saga's health gate and smoke test, on this API.
        "DEPLOY_HEALTH_URL": f"http://127.0.0.1:{api_port}/actuator/health",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
        **(extra_env or {}),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devstack",
        "run",
        cwd=str(REPO),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    stack = RunningStack(
        proc, f"http://127.0.0.1:{api_port}", socket_path(var), database_url, var, env
    )
    pump = asyncio.create_task(_pump(proc.stdout, stack.lines))
    try:
        await eventually(
            _running(stack), timeout=180, interval=0.2, what="make run to say it is running"
        )
        yield stack
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pump, 5)
        # What make run printed (every process's lines), kept with the test's files.
        (tmp_path / "make-run.log").write_text("\n".join(stack.lines) + "\n")
        await services.delete_vhost(MANAGEMENT, vhost)
        await services.drop_database(database_url, drop_role=False)
        shutil.rmtree(var, ignore_errors=True)


def _running(stack: RunningStack):
    async def probe() -> bool:
        if stack.proc.returncode is not None:
            raise AssertionError("make run ended:\n" + "\n".join(stack.lines[-40:]))
        return stack.said("Ticketero is running")

    return probe


async def status(stack: RunningStack) -> dict[str, dict]:
    answer = await control_request(stack.control, {"command": "status"})
    assert answer["ok"], answer
    return {row["name"]: row for row in answer["processes"]}


async def value(result: bool) -> bool:
    return result
