"""`schedules list|trigger ID|pause ID|resume ID`: the Temporal schedules of the operations."""

from __future__ import annotations

import argparse
import getpass

from cli.common import CliError, temporal
from cli.output import EXIT_OK, echo, local_time
from ops.client import NotFound, list_schedules, schedule_action
from settings import Settings


async def run(settings: Settings, args: argparse.Namespace) -> int:
    client = await temporal(settings)
    if args.action == "list":
        views = await list_schedules(client)
        if not views:
            echo("no schedules")
        for view in views:
            state = "paused" if view.paused else "active"
            zone = settings.ops_time_zone
            nxt = local_time(view.next_runs[0], zone) if view.next_runs else "-"
            echo(f"{view.schedule_id:<34} {state:<7} next {nxt}  ({view.workflow_type or '?'})")
            if view.note:
                echo(f"    note: {view.note}")
        return EXIT_OK
    if not args.schedule_id:
        raise CliError(f"schedules {args.action} needs a schedule id", 2)
    try:
        started = await schedule_action(
            client, args.schedule_id, args.action, f"cli:{getpass.getuser()}"
        )
    except NotFound as err:
        raise CliError(str(err)) from err
    done = {"trigger": "triggered", "pause": "paused", "resume": "resumed"}[args.action]
    echo(f"{args.schedule_id} {done}")
    if args.action == "trigger":
        # The run id, to follow with `ticketero report ID` (or in the Temporal UI).
        echo(f"run {started}" if started else "run not seen yet: see `ticketero runs`")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schedules", help="list, trigger, pause or resume the schedules")
    p.add_argument("action", choices=["list", "trigger", "pause", "resume"])
    p.add_argument("schedule_id", nargs="?")
