"""Command line: `python -m devstack ensure` and `python -m devstack run`."""

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ensure", help="start PostgreSQL/RabbitMQ if needed; create role, db")
    commands.add_parser("run", help="run the whole stack in the foreground (make run)")
    args = parser.parse_args(argv)
    if args.command == "ensure":
        return asyncio.run(_ensure())
    from devstack.stack import run_stack

    return asyncio.run(run_stack())
