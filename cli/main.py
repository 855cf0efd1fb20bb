"""`ticketero`: the operator CLI. `ticketero --help` lists the commands.

Settings come from the environment (and `.env`) like every Ticketero process.
Exit codes: 0 ok, 1 failed, 2 usage, 3 finished with an alert, 4 rolled back.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from temporalio.service import RPCError

from cli import branches, checks, contacts, releases, runs, schedules, start
from cli.common import CliError
from cli.output import warn
from settings import Settings, get_settings

Handler = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]

_HANDLERS: dict[str, Handler] = {
    "backup": start.run,
    "restore": start.run,
    "maintenance": start.run,
    "deploy": start.run,
    "rollback": start.run,
    "runs": runs.runs,
    "report": runs.report,
    "schedules": schedules.run,
    "health": checks.health,
    "verify-health": checks.verify_health,
    "smoke-test": checks.smoke_test,
    "wait-for-services": checks.wait_for_services,
    "contacts": contacts.contacts,
    "branches": branches.run,
    "release": releases.build,
    "releases": releases.listing,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ticketero",
        description="Ticketero operations: backups, restores, maintenance, deploys and checks. "
        "Workflows run on Temporal; each start prints its id and Temporal UI link.",
        epilog="Exit codes: 0 ok, 1 failed, 2 usage, 3 alert, 4 rolled back.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    start.register(sub)
    runs.register(sub)
    schedules.register(sub)
    checks.register(sub)
    contacts.register(sub)
    branches.register(sub)
    releases.register(sub)
    return parser


def run(argv: list[str] | None = None) -> int:
    """Parse and run one command; the exit code (argparse exits 2 itself on bad usage)."""
    args = build_parser().parse_args(argv)
    if args.command == "restore" and args.latest:
        args.backup = None
    try:
        return asyncio.run(_HANDLERS[args.command](get_settings(), args))
    except CliError as err:
        warn(f"ticketero {args.command}: {err}")
        return err.code
    except RPCError as err:
        warn(f"ticketero {args.command}: Temporal answered {err.status.name}: {err.message}")
        return 1
    except (SQLAlchemyError, OSError) as err:
        warn(f"ticketero {args.command}: database unavailable: {type(err).__name__}: {err}")
        return 1
    except KeyboardInterrupt:
        warn("interrupted; a started workflow keeps running (see `ticketero runs`)")
        return 130


def main() -> None:
    """Console entry point. Ends with os._exit: a process that used the Temporal SDK
    may abort at interpreter exit (sdk-python issue 300), and scripts read the code."""
    try:
        code = run()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 2
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
