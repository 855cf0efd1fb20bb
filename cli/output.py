"""How the CLI prints reports and runs, and the exit codes scripts rely on."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ops.client import LiveRun
from ops.contracts import OpsReport

#: Exit codes: 0 ok; 1 failed; 2 usage (argparse); 3 finished with an alert; 4 rolled back.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ALERT = 3
EXIT_ROLLED_BACK = 4
_BY_OUTCOME = {"ok": EXIT_OK, "alert": EXIT_ALERT, "rolled_back": EXIT_ROLLED_BACK}


def echo(line: str = "") -> None:
    print(line, flush=True)


def warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def local_time(when: datetime, zone: str) -> str:
    """`2026-11-30 01:16:41 -03` in the operator's zone (settings.ops_time_zone)."""
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def exit_code(report: OpsReport) -> int:
    return _BY_OUTCOME.get(report.outcome, EXIT_FAILED)


def _figures(figures: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in figures.items() if not isinstance(v, dict | list)]
    return ", ".join(shown)


def print_report(report: OpsReport) -> None:
    echo(f"{report.kind} {report.workflow_id}: {report.outcome.upper()}")
    echo(f"  {report.summary}")
    for step in report.steps:
        took = ""
        if step.started_at and step.finished_at:
            took = f" ({(step.finished_at - step.started_at).total_seconds():.1f}s)"
        echo(f"  - {step.name}: {step.outcome}{took}")
        if step.detail:
            echo("      " + step.detail.replace("\n", "\n      "))
        figures = _figures(step.figures)
        if figures:
            echo(f"      {figures}")


def print_json(data: Any) -> None:
    echo(json.dumps(data, indent=2, default=str))


def print_live(run: LiveRun, url: str, zone: str = "UTC") -> None:
    echo(f"{run.workflow_type} {run.workflow_id}: {run.status}")
    if run.started_at:
        echo(f"  started {local_time(run.started_at, zone)}")
    if run.closed_at:
        echo(f"  closed  {local_time(run.closed_at, zone)}")
    echo(f"  {url}")
