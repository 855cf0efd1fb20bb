"""`runs` and `report`: what the operations did, from `ops_run` (or Temporal while running)."""

from __future__ import annotations

import argparse

from cli.common import temporal
from cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    echo,
    exit_code,
    local_time,
    print_json,
    print_live,
    print_report,
)
from db.engine import make_engine
from ops import runs as ops_runs
from ops.client import live_run, temporal_url
from settings import Settings


async def runs(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings, pool_size=1)
    try:
        reports = await ops_runs.recent_runs(engine, kind=args.kind, limit=args.limit)
    finally:
        await engine.dispose()
    if args.json:
        print_json([r.model_dump(mode="json", exclude={"steps"}) for r in reports])
        return EXIT_OK
    if not reports:
        echo("no runs recorded" + (f" of kind {args.kind}" if args.kind else ""))
    for r in reports:
        finished = local_time(r.finished_at, settings.ops_time_zone)
        echo(f"{finished}  {r.kind:<20} {r.outcome:<11} {r.workflow_id}")
        echo(f"    {r.summary}")
    return EXIT_OK


async def report(settings: Settings, args: argparse.Namespace) -> int:
    """The stored report; else Temporal's view (running, or finished without a report)."""
    engine = make_engine(settings, pool_size=1)
    try:
        stored = await ops_runs.get_run(engine, args.workflow_id)
    finally:
        await engine.dispose()
    if stored is None:
        run = await live_run(await temporal(settings), args.workflow_id)
        if run is None:
            echo(f"no run {args.workflow_id}")
            return EXIT_FAILED
        stored = run.report
        if stored is None:
            if args.json:
                print_json({"workflow_id": run.workflow_id, "status": run.status})
            else:
                print_live(run, temporal_url(settings, run.workflow_id), settings.ops_time_zone)
            return EXIT_OK if run.status in ("RUNNING", "COMPLETED") else EXIT_FAILED
    if args.json:
        print_json(stored.model_dump(mode="json"))
    else:
        print_report(stored)
        echo(f"  {temporal_url(settings, stored.workflow_id)}")
    return exit_code(stored)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("runs", help="recent operations runs (newest first)")
    p.add_argument("--kind", help="backup, restore, deploy, rollback, maintenance_daily, ...")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("report", help="the report of one run (or its live status)")
    p.add_argument("workflow_id")
    p.add_argument("--json", action="store_true")
