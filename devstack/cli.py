"""Command line: `python -m devstack ensure`, `run` and `status` (of a running `make run`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from devstack.services import ServiceError, ensure_all


def _say(message: str) -> None:
    print(f"devstack: {message}", flush=True)


async def _ensure() -> int:
    from settings import get_settings

    settings = get_settings()
    try:
        await ensure_all(
            settings.database_url,
            settings.rabbitmq_url.get_secret_value(),
            settings.rabbitmq_management_url,
            echo=_say,
        )
    except (ServiceError, OSError, ValueError) as exc:
        print(f"devstack: error: {exc}", file=sys.stderr, flush=True)
        return 1
    _say("services ready")
    return 0


async def _status() -> int:
    from devstack.control import ControlError, request, socket_path
    from devstack.stack import var_dir
    from settings import get_settings

    try:
        answer = await request(socket_path(var_dir(get_settings())), {"command": "status"})
    except ControlError as exc:
        print(f"devstack: error: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"{'process':<12} {'pid':>8} {'version':<16} {'uptime':>9} {'restarts':>8}")
    for row in answer["processes"]:
        uptime = "-" if row["uptime_seconds"] is None else f"{row['uptime_seconds']:.0f}s"
        print(
            f"{row['name']:<12} {row['pid'] or '-':>8} {row['version'] or '-':<16} "
            f"{uptime:>9} {row['restarts']:>8}"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ensure", help="start PostgreSQL/RabbitMQ if needed; create role, db")
    commands.add_parser("run", help="run the whole stack in the foreground (make run)")
    commands.add_parser("status", help="pid, version, uptime, restarts of make run's processes")
    args = parser.parse_args(argv)
    if args.command == "ensure":
        return asyncio.run(_ensure())
    if args.command == "status":
        return asyncio.run(_status())
    from devstack.stack import run_stack

    return asyncio.run(run_stack())
