"""`branches add|list`: register a branch (customers cannot) and see the registered ones."""

from __future__ import annotations

import argparse
from datetime import time
from zoneinfo import available_timezones

from cli.common import CliError
from cli.output import EXIT_OK, echo, print_json
from db import branches as store
from db import supervision
from db.engine import make_engine
from domain.text import clean_text
from settings import Settings


def _hour(raw: str) -> time:
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a time HH:MM") from None


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "add":
        return await add(settings, args)
    return await list_(settings, args)


async def add(settings: Settings, args: argparse.Namespace) -> int:
    try:
        name = clean_text(args.name, max_length=100)
    except ValueError as err:
        raise CliError(f"NAME {err}", code=2) from None
    zone = args.time_zone or settings.default_time_zone
    if zone not in available_timezones():
        raise CliError(f"--time-zone {zone!r} is not an IANA time zone", code=2)
    # unset hours take the column defaults (migration 0002): 09:00 and 14:00
    if (args.opens or time(9, 0)) >= (args.closes or time(14, 0)):
        raise CliError("--opens must be before --closes", code=2)
    engine = make_engine(settings, pool_size=1)
    try:
        async with engine.begin() as conn:
            created = await store.create_branch(conn, name, zone, args.opens, args.closes)
    finally:
        await engine.dispose()
    if created is None:
        raise CliError(f"a branch named {name!r} already exists")
    echo(f"branch {created.name!r} registered (id {created.id}, {created.time_zone})")
    return EXIT_OK


async def list_(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings, pool_size=1)
    try:
        async with engine.connect() as conn:
            found = await supervision.list_branches(conn)
    finally:
        await engine.dispose()
    if args.json:
        print_json(
            [
                {
                    "id": b.id,
                    "name": b.name,
                    "time_zone": b.time_zone,
                    "opens_at": b.opens_at.strftime("%H:%M"),
                    "closes_at": b.closes_at.strftime("%H:%M"),
                }
                for b in found
            ]
        )
        return EXIT_OK
    for b in found:
        echo(f"{b.id:>5}  {b.name:<40} {b.time_zone:<24} {b.opens_at:%H:%M}-{b.closes_at:%H:%M}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("branches", help="register and list branches")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add_p = actions.add_parser("add", help="register a branch with the default queues")
    add_p.add_argument("name", metavar="NAME")
    add_p.add_argument("--time-zone", help="IANA time zone (default DEFAULT_TIME_ZONE)")
    add_p.add_argument("--opens", type=_hour, help="opening time HH:MM (default 09:00)")
    add_p.add_argument("--closes", type=_hour, help="closing time HH:MM (default 14:00)")
    list_p = actions.add_parser("list", help="the registered branches")
    list_p.add_argument("--json", action="store_true")
