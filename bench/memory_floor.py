"""`python -m bench.memory_floor`: the RSS the three app processes cannot go below.

Issue #15 bounds API + worker + bridge at 300 MB after 10,000 tickets. Two floors sit
under that figure, and the brief fixes both:
- imports: each process is its own interpreter holding the packages the brief names
  (temporalio, fastapi and uvicorn, sqlmodel and asyncpg, aio-pika, httpx,
  prometheus-client). This prints the RSS of a fresh interpreter that imported only the
  fixed packages a process uses, and of one that imported the process's entry module;
- the worker's sticky cache: every cached workflow run keeps its instance in Python and
  its state machines in the SDK's core. This starts `--workflows` of the least workflow
  there is on a private dev server and prints this process's RSS per cached run (our
  ticket workflow costs about three times that; `make bench`'s endurance shows it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio import workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.floor import private_dev_server

REPO = Path(__file__).resolve().parent.parent
QUEUE = "memory-floor"
DB = ("sqlmodel", "sqlalchemy.ext.asyncio", "asyncpg")


@dataclass(frozen=True)
class Process:
    name: str
    entry: str
    #: The brief's fixed packages this process imports.
    fixed: tuple[str, ...]


PROCESSES = (
    Process(
        "api",
        "api.main",
        ("fastapi", "uvicorn", *DB, "temporalio.client", "aio_pika", "prometheus_client"),
    ),
    Process(
        "worker",
        "worker",
        ("temporalio.client", "temporalio.worker", *DB, "aio_pika", "prometheus_client"),
    ),
    Process(
        "bridge",
        "bridge.__main__",
        ("temporalio.client", *DB, "aio_pika", "httpx", "prometheus_client"),
    ),
)
_PRINT_RSS = (
    "import re; print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
)


def rss_mb() -> float:
    """This process's VmRSS in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def imported_rss_mb(modules: tuple[str, ...]) -> float:
    """VmRSS of a fresh interpreter (this venv, the repository as cwd) after the imports."""
    code = f"import {', '.join(modules)}\n{_PRINT_RSS}"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1]) / 1024


_runs_started = 0


@workflow.defn(sandboxed=False)
class Counted:
    """bench.floor's least workflow, counting its first tasks so the bench waits on them."""

    @workflow.run
    async def run(self) -> None:
        global _runs_started
        _runs_started += 1  # a bench-only side effect: no run of this is ever replayed
        await workflow.wait_condition(lambda: False, timeout=timedelta(hours=8))


async def _started(target: int, count: int) -> None:
    """Wait (with a deadline) until `target` runs in all have had their first task here."""
    deadline = time.monotonic() + 60 + count / 10
    while _runs_started < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {_runs_started} of {target} runs started in time")
        await asyncio.sleep(0.1)


async def cached_run_kb(count: int) -> float:
    """This process's RSS growth per cached run of the least workflow, in KB."""
    async with private_dev_server() as (client, _pid):
        limit = asyncio.Semaphore(16)

        async def one() -> None:
            async with limit:
                await client.start_workflow(Counted.run, id=f"mem-{uuid.uuid4()}", task_queue=QUEUE)

        async with Worker(
            client,
            task_queue=QUEUE,
            workflows=[Counted],
            workflow_runner=UnsandboxedWorkflowRunner(),
            max_cached_workflows=count + 200,
        ):
            warm = min(200, count)
            await asyncio.gather(*(one() for _ in range(warm)))
            await _started(warm, warm)
            gc.collect()
            before = rss_mb()
            await asyncio.gather(*(one() for _ in range(count)))
            await _started(warm + count, count)
            gc.collect()
            return (rss_mb() - before) * 1024 / count


def report(workflows: int) -> str:
    lines = ["RSS after imports, MB        fixed packages   entry module"]
    fixed_sum = entry_sum = 0.0
    for process in PROCESSES:
        fixed = imported_rss_mb(process.fixed)
        entry = imported_rss_mb((process.entry,))
        fixed_sum += fixed
        entry_sum += entry
        lines.append(f"  {process.name:<26} {fixed:10.1f} {entry:16.1f}")
    lines.append(f"  {'api + worker + bridge':<26} {fixed_sum:10.1f} {entry_sum:16.1f}")
    if workflows > 0:
        per_run = asyncio.run(cached_run_kb(workflows))
        lines.append(
            f"worker sticky cache: {workflows} runs of the least workflow, "
            f"{per_run:.1f} KB of RSS per cached run"
        )
    return "\n".join(lines)


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_floor", description=__doc__)
    parser.add_argument(
        "--workflows", type=int, default=2000, help="cached runs to measure (0: imports only)"
    )
    print(report(parser.parse_args().workflows), flush=True)
    os._exit(0)  # the SDK may abort at interpreter exit (sdk-python issue 300)


if __name__ == "__main__":
    cli()
