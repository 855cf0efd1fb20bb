"""`python -m bench.floor`: what the Temporal dev server costs for the least workflow there is.

Starts a private dev server with the stack's own flags (devstack.stack), runs a worker
and a starter in this process, and starts workflows that do nothing but wait on a timer
(one workflow task, five events: about the least a ticket's workflow can be), at fixed
rates, then saturated. Prints the server's CPU per workflow, the floor under the stack's
"temporal" figure in `make bench` (a workflow per ticket costs at least this, whatever
the workflow does), and this process's, the SDK's worker and client: the floor under the
stack's "worker" figure. `--eager` asks for eager starts (the first task comes back in
the start's answer; only possible where the starter is also the worker).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from tempfile import mkdtemp

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench import procstat
from bench.stats import summarize
from devstack.ephemeral import free_ports
from devstack.stack import temporal_dev_server_argv
from devstack.supervisor import port_open

QUEUE = "floor"


@workflow.defn(sandboxed=False)
class Idle:
    """One workflow task: a timer, and nothing else until it is terminated with the server."""

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False, timeout=timedelta(hours=8))


async def _phase(client: Client, pid: int, rate: float, count: int, eager: bool) -> str:
    latencies: list[float] = []

    async def one() -> None:
        began = time.perf_counter()
        await client.start_workflow(
            Idle.run, id=f"floor-{uuid.uuid4()}", task_queue=QUEUE, request_eager_start=eager
        )
        latencies.append(time.perf_counter() - began)

    cpu_before = procstat.process_cpu_seconds(pid)
    own_before = procstat.process_cpu_seconds(os.getpid())
    began = time.perf_counter()
    if rate > 0:
        tasks = []
        for _ in range(count):
            tasks.append(asyncio.create_task(one()))
            await asyncio.sleep(1 / rate)  # an open loop's pacing, not a synchronisation
        await asyncio.gather(*tasks)
    else:
        limit = asyncio.Semaphore(16)

        async def bounded() -> None:
            async with limit:
                await one()

        await asyncio.gather(*(bounded() for _ in range(count)))
    elapsed = time.perf_counter() - began
    await procstat.settle([pid])
    used = procstat.process_cpu_seconds(pid) - cpu_before
    own = procstat.process_cpu_seconds(os.getpid()) - own_before
    name = f"{rate:g}/s" if rate > 0 else "saturated (16 starters)"
    summary = summarize(name, latencies, 0, elapsed)
    return (
        f"{summary.line()}  worker+starter CPU/workflow {own / count * 1000:6.2f} ms"
        f"  server CPU/workflow {used / count * 1000:6.2f} ms"
    )


@contextlib.asynccontextmanager
async def private_dev_server() -> AsyncIterator[tuple[Client, int]]:
    """A dev server of its own (the stack's flags, a fresh database file): (client, pid)."""
    grpc, ui = free_ports(2)
    db_file = Path(mkdtemp(prefix="floor-")) / "temporal.db"
    argv = temporal_dev_server_argv(grpc, ui, str(db_file), headless=True)
    server = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not await port_open("127.0.0.1", grpc):
            if time.monotonic() > deadline:
                raise SystemExit("the dev server did not open its port in 60 s")
            await asyncio.sleep(0.2)
        yield await Client.connect(f"127.0.0.1:{grpc}"), server.pid
    finally:
        server.terminate()
        await server.wait()


async def main(args: argparse.Namespace) -> None:
    async with (
        private_dev_server() as (client, pid),
        Worker(
            client,
            task_queue=QUEUE,
            workflows=[Idle],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ),
    ):
        await _phase(client, pid, 20, 100, args.eager)  # warm-up
        for rate in (10.0, 50.0, 0.0):
            count = int(rate * args.seconds) if rate else args.saturated
            print(await _phase(client, pid, rate, count, args.eager), flush=True)


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20, help="length of each paced phase")
    parser.add_argument("--saturated", type=int, default=1000, help="workflows, saturated")
    parser.add_argument("--eager", action="store_true", help="eager workflow starts")
    asyncio.run(main(parser.parse_args()))
    os._exit(0)  # the SDK may abort at interpreter exit (sdk-python issue 300)


if __name__ == "__main__":
    cli()
