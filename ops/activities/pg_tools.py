"""PostgreSQL's command-line tools as the backup and restore activities run them: two
processes joined by an OS pipe (`pg_dump | gzip`, `gzip -dc | psql`), and the libpq
arguments and environment naming the application database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from temporalio.exceptions import ApplicationError

from ops.activities.heartbeat import HEARTBEAT_EVERY, beat
from ops.contracts import BACKUP_REFUSED


def _orphan_guard() -> list[str]:
    """Children die with the worker (`setpriv --pdeathsig`), so a killed worker leaves
    no pg_dump or psql running against the database."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


@dataclass(frozen=True)
class ToolResult:
    first_code: int
    first_err: str
    second_code: int
    second_err: str

    @property
    def ok(self) -> bool:
        return self.first_code == 0 and self.second_code == 0


async def run_pipeline(
    first: list[str],
    second: list[str],
    *,
    env: Mapping[str, str],
    stdin_path: Path | None = None,
    stdout_path: Path | None = None,
    progress: Callable[[], dict[str, Any]] | None = None,
) -> ToolResult:
    """`first | second` with OS pipes (no data through Python), heartbeating while it runs.

    On cancellation both processes are killed before the error propagates.
    """
    guard = _orphan_guard()
    read_end, write_end = os.pipe()
    with contextlib.ExitStack() as files:
        src = files.enter_context(stdin_path.open("rb")) if stdin_path else None
        dst = files.enter_context(stdout_path.open("wb")) if stdout_path else None
        try:
            p1 = await asyncio.create_subprocess_exec(
                *guard,
                *first,
                stdin=src if src is not None else asyncio.subprocess.DEVNULL,
                stdout=write_end,
                stderr=asyncio.subprocess.PIPE,
                env=dict(env),
            )
            try:
                p2 = await asyncio.create_subprocess_exec(
                    *guard,
                    *second,
                    stdin=read_end,
                    stdout=dst if dst is not None else asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                    env=dict(env),
                )
            except BaseException:
                p1.kill()
                await p1.wait()
                raise
        finally:
            os.close(read_end)
            os.close(write_end)
        both = asyncio.gather(p1.communicate(), p2.communicate())
        started = time.monotonic()
        try:
            while True:
                done, _ = await asyncio.wait({both}, timeout=HEARTBEAT_EVERY)
                if done:
                    break
                extra = progress() if progress else {}
                beat(elapsed=round(time.monotonic() - started, 1), **extra)
        except BaseException:
            for proc in (p1, p2):
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            with contextlib.suppress(BaseException):
                await both
            raise
        (_, err1), (_, err2) = both.result()
    return ToolResult(
        p1.returncode if p1.returncode is not None else -1,
        err1.decode(errors="replace"),
        p2.returncode if p2.returncode is not None else -1,
        err2.decode(errors="replace"),
    )


@dataclass(frozen=True)
class PgTarget:
    """libpq arguments and environment for the application database (password via env)."""

    args: list[str]
    env: dict[str, str]
    database: str


def pg_target(database_url: str, app_name: str) -> PgTarget:
    url = make_url(database_url)
    if not url.database:
        raise ApplicationError("DATABASE_URL names no database", type=BACKUP_REFUSED)
    args = ["--no-password", "-d", url.database]
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)  # keeps e.g. PGSSLROOTCERT; what the URL names wins below
    env.update(PGAPPNAME=app_name, PGCONNECT_TIMEOUT="10")
    env["PGOPTIONS"] = "-c client_min_messages=warning"
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    ssl = url.query.get("ssl") or url.query.get("sslmode")
    if isinstance(ssl, str) and ssl:
        env["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(ssl.lower(), ssl)
    return PgTarget(args, env, url.database)
