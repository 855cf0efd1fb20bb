"""`python -m bench`: ticket creation and delivery latency against a running stack.

Phases: (0) open-loop POSTs at a light 10/s (`--low-rate`, the latency a customer sees on
an ordinary morning), (1) open-loop POSTs at a fixed rate (default 50/s), (2) closed-loop
POSTs with N concurrent clients for the sustained maximum, (3) tickets linked
to sandbox chats, timing created -> delivered from the ticket's createdAt to
the moment the sandbox recorded the message; (4) with `--near-limit`, chats' tickets
plus advisors calling them, near 30 messages/s, with the time-critical messages
(called -> "your turn" delivered) reported apart (bench/near_limit.py).
Use `--self-hosted` to start a private stack (own database, vhost, Temporal)
instead of using `make run`'s.
Each phase posts as a kiosk of a branch of its own (bench/kiosk.py), like a branch's
kiosk does, so the per-address rate limit does not throttle the figures.

`make bench` (or `python -m bench --self-hosted`) runs the same creation load first
against the built-in baseline (bench/baseline.py: the creation transaction straight to
PostgreSQL, no Temporal) and then against the stack, and prints both with their ratios,
CPU per created ticket (whole box, and per process of a self-hosted stack) and RSS;
`--json PATH` writes every figure, `--profile DIR` runs py-spy on the API and worker.
Long because the phases share one stack, one CPU accounting and one report.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path
from tempfile import mkdtemp

import httpx

from bench import procstat, report
from bench.bridge_load import bridge_near_limit
from bench.endurance import as_json, endurance
from bench.endurance import text as endurance_text
from bench.kiosk import KioskIssuer
from bench.near_limit import near_limit
from bench.phases import delivery, fixed_rate, saturate
from bench.profile import Profiler
from bench.report import TargetResult
from bench.stats import Summary
from devstack.ephemeral import free_port
from devstack.supervisor import ProcessSpec, Supervisor
from settings import get_settings

#: The stack's processes whose CPU and RSS are reported (when the bench started them).
MEASURED = ("api", "worker", "bridge", "temporal", "ops-worker", "sandbox")
PROFILED = ("api", "worker")
REPO = Path(__file__).resolve().parents[1]


async def measure(
    name: str,
    api_url: str,
    kiosks: KioskIssuer,
    args: argparse.Namespace,
    pids: dict[str, int],
    sandbox_url: str | None = None,
    profile_dir: Path | None = None,
    rabbitmq: tuple[str, str] | None = None,
) -> tuple[TargetResult, dict[str, object] | None]:
    """Warm up, then the two creation phases under CPU accounting, then the delivery phases."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=api_url, timeout=30, limits=limits) as client:
        health = await client.get("/actuator/health")
        if health.status_code != 200:
            raise SystemExit(f"{name} not healthy at {api_url}: {health.text}")
        # warm-up: connections, caches, JIT of the dev server
        await fixed_rate(client, await kiosks.new(), 10, args.warmup)
        open_kiosk, closed_kiosk = await kiosks.new(), await kiosks.new()
        profiler = None
        if profile_dir is not None:
            profiler = Profiler(profile_dir, {k: v for k, v in pids.items() if k in PROFILED})
            await profiler.start()
        before = procstat.snapshot(pids)
        phases: list[Summary] = [
            await fixed_rate(client, await kiosks.new(), args.low_rate, args.seconds),
            await fixed_rate(client, open_kiosk, args.rate, args.seconds),
            await saturate(client, closed_kiosk, args.workers, args.seconds),
        ]
        # A creation answered before its workflow ran leaves work queued: the saturated
        # phase lasts until that is done too (its throughput is what the stack sustains),
        # and the CPU of that work is counted.
        drained = await procstat.settle(list(pids.values()))
        phases[-1] = replace(phases[-1], seconds=phases[-1].seconds + drained)
        after = procstat.snapshot(pids)
        profiles = await profiler.stop() if profiler is not None else None
        rss = procstat.rss(pids)
        tickets = sum(p.count for p in phases)
        per = 1000 / tickets if tickets else float("nan")
        result = TargetResult(
            name=name,
            phases=phases,
            tickets=tickets,
            cpu_seconds=sum(p.seconds for p in phases),
            box_cpu_ms_per_ticket=(after.box - before.box) * per,
            process_cpu_ms_per_ticket={
                k: (after.processes[k] - before.processes[k]) * per for k in pids
            },
            rss_mb={k: v / 2**20 for k, v in rss.items()},
        )
        if sandbox_url is not None:
            await delivery_phases(result, client, sandbox_url, kiosks, args, pids, rabbitmq)
        return result, profiles


async def delivery_phases(
    result: TargetResult,
    client: httpx.AsyncClient,
    sandbox_url: str,
    kiosks: KioskIssuer,
    args: argparse.Namespace,
    pids: dict[str, int],
    rabbitmq: tuple[str, str] | None,
) -> None:
    """created -> delivered, then the near-limit phases asked for (CPU per message each)."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as sandbox:
        if (await sandbox.get("/healthz")).status_code != 200:
            return
        if not args.skip_delivery:
            result.phases.append(
                await delivery(
                    client, sandbox, await kiosks.new(), args.delivery_rate, args.delivery_count
                )
            )
        if args.near_limit:
            start = procstat.snapshot(pids)
            phase = await near_limit(
                client,
                sandbox,
                kiosks.database_url,
                await kiosks.new(),
                rate=args.near_limit_rate,
                seconds=args.near_limit_seconds,
                advisors=args.near_limit_desks,
                service=args.near_limit_service,
            )
            result.phases += phase.summaries
            result.message_cpu_ms = message_cpu(
                start, procstat.snapshot(pids), phase.everything.count
            )
        if args.bridge_near_limit and rabbitmq is not None:
            start = procstat.snapshot(pids)
            summaries = await bridge_near_limit(
                client,
                sandbox,
                kiosks.database_url,
                *rabbitmq,
                await kiosks.new(),
                rate=args.bridge_rate,
                seconds=args.bridge_seconds,
                urgent_every=args.bridge_urgent_every,
            )
            result.phases += summaries
            result.bridge_message_cpu_ms = message_cpu(
                start, procstat.snapshot(pids), summaries[-1].count
            )


def message_cpu(
    before: procstat.Snapshot, after: procstat.Snapshot, messages: int
) -> dict[str, float]:
    """CPU per delivered message over the near-limit phase (load, drain and reading back):
    the bridge's figure is its per-message cost."""
    per = 1000 / messages if messages else float("nan")
    out = {"box": (after.box - before.box) * per}
    out |= {k: (after.processes[k] - before.processes[k]) * per for k in after.processes}
    return out


async def run_baseline(
    database_url: str, log_dir: Path, kiosks: KioskIssuer, args: argparse.Namespace
) -> TargetResult:
    """The baseline app as its own uvicorn process on a free port, measured like the stack."""
    port = free_port()
    spec = ProcessSpec(
        name="baseline",
        argv=[sys.executable, "-m", "uvicorn", "bench.baseline:app", "--port", str(port),
              "--host", "127.0.0.1", "--no-access-log"],
        env={"DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"},
        cwd=str(REPO),
        ready_url=f"http://127.0.0.1:{port}/actuator/health",
        ready_timeout=60.0,
    )  # fmt: skip
    supervisor = Supervisor(log_dir=log_dir, echo=False)
    await supervisor.start(spec)
    try:
        pids = {"baseline": supervisor.pid("baseline")}
        result, _ = await measure("baseline", f"http://127.0.0.1:{port}", kiosks, args, pids)
    finally:
        await supervisor.stop_all()
    return result


async def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8080")
    parser.add_argument("--sandbox", default="http://127.0.0.1:8081")
    parser.add_argument("--low-rate", type=float, default=10.0, help="the light open loop")
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop POSTs per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up at 10/s")
    parser.add_argument("--workers", type=int, default=32, help="closed-loop clients")
    parser.add_argument("--delivery-rate", type=float, default=20.0)
    parser.add_argument("--delivery-count", type=int, default=200)
    parser.add_argument(
        "--near-limit",
        action="store_true",
        help="add the near-limit delivery phase: chats' 'created' plus advisors' calls near"
        " 30 messages/s, the urgent messages' latency apart",
    )
    parser.add_argument("--near-limit-rate", type=float, default=22.0, help="tickets/s")
    parser.add_argument("--near-limit-seconds", type=float, default=15.0)
    parser.add_argument("--near-limit-desks", type=int, default=8, help="advisors calling")
    parser.add_argument(
        "--near-limit-service", type=float, default=2.0, help="seconds from a call to its start"
    )
    parser.add_argument(
        "--bridge-near-limit",
        action="store_true",
        help="add the bridge-only phase: notifications published straight to RabbitMQ just"
        " over 30/s, urgent and normal latency apart, bridge CPU per message",
    )
    parser.add_argument("--bridge-rate", type=float, default=33.0, help="messages/s published")
    parser.add_argument("--bridge-seconds", type=float, default=15.0)
    parser.add_argument("--bridge-urgent-every", type=int, default=10, help="1 in N urgent")
    parser.add_argument(
        "--endurance",
        type=int,
        default=0,
        metavar="N",
        help="then two runs of N tickets each, RSS of API, worker and bridge after each",
    )
    parser.add_argument("--skip-delivery", action="store_true", help="no created->delivered")
    parser.add_argument("--self-hosted", action="store_true", help="start a private stack")
    parser.add_argument("--no-baseline", action="store_true", help="measure the stack only")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--profile", type=Path, help="py-spy the API and worker into this dir")
    args = parser.parse_args()

    log_dir = Path(mkdtemp(prefix="bench-"))
    results: list[TargetResult] = []
    profiles = None
    memory_text = ""
    if args.self_hosted:
        from devstack.ephemeral import start_stack, stop_stack

        stack = await start_stack(log_dir)
        try:
            kiosks = KioskIssuer(stack.database_url)
            if not args.no_baseline:
                results.append(await run_baseline(stack.database_url, log_dir, kiosks, args))
            pids = {n: stack.supervisor.pid(n) for n in MEASURED if n in stack.specs}
            rabbitmq = (
                stack.env["RABBITMQ_URL"],
                stack.env.get("RABBITMQ_EXCHANGE") or get_settings().rabbitmq_exchange,
            )
            ours, profiles = await measure(
                "ticketero",
                stack.api_url,
                kiosks,
                args,
                pids,
                stack.sandbox_url,
                args.profile,
                rabbitmq,
            )
            if args.endurance:
                runs = await endurance(stack.api_url, kiosks, pids, args.endurance)
                ours.memory_runs = as_json(runs)
                memory_text = endurance_text(runs)
            results.append(ours)
        finally:
            await stop_stack(stack)
    else:
        database_url = get_settings().database_url
        kiosks = KioskIssuer(database_url)
        if not args.no_baseline:
            results.append(await run_baseline(database_url, log_dir, kiosks, args))
        settings = get_settings()
        rabbitmq = (settings.rabbitmq_url.get_secret_value(), settings.rabbitmq_exchange)
        ours, _ = await measure(
            "ticketero", args.api, kiosks, args, {}, args.sandbox, rabbitmq=rabbitmq
        )
        results.append(ours)
    ratio = report.ratios(results[0], results[-1]) if len(results) == 2 else None
    print()
    print(report.text(results, ratio))
    if memory_text:
        print(memory_text)
    if args.json is not None:
        report.write_json(args.json, results, ratio, vars(args) | {"json": str(args.json),
                          "profile": str(args.profile)}, profiles)  # fmt: skip
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    code = asyncio.run(main())
    sys.stdout.flush()
    os._exit(code)  # the Temporal-free client still exits hard, like the test runner
