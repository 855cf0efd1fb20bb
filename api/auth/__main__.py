"""Manage staff users from a shell.

    python -m api.auth create-user --username ana --role supervisor
    python -m api.auth create-user --username eva --role supervisor --branch Centro --branch Norte
    python -m api.auth create-user --username luis --role advisor --advisor-email luis@bank.cl

The password comes from TICKETERO_NEW_PASSWORD or, when that is unset, an
interactive prompt (asked twice); never from the command line, where it would
land in the shell history and the process list. A supervisor given `--branch`
sees only those branches; one without sees every branch. Uses DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from api.auth.principal import ROLES
from api.auth.scope import assign_branches, find_branches
from api.auth.users import create_user
from db.engine import make_engine
from db.users import UserError, advisor_id_by_email
from settings import get_settings

PASSWORD_ENV = "TICKETERO_NEW_PASSWORD"  # noqa: S105 - the variable's name, not a secret


class CliError(Exception):
    """Ends the command with this message and exit code 1."""


def read_password() -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        if not password:
            raise CliError(f"{PASSWORD_ENV} is empty")
        return password
    if not sys.stdin.isatty():
        raise CliError(f"set {PASSWORD_ENV} or run interactively to be prompted")
    password = getpass.getpass("Password: ")
    if not password:
        raise CliError("the password must not be empty")
    if getpass.getpass("Repeat password: ") != password:
        raise CliError("the passwords do not match")
    return password


async def create_user_command(args: argparse.Namespace) -> str:
    if (args.role == "advisor") != bool(args.advisor_email):
        raise CliError("--advisor-email is required for --role advisor and only for it")
    if args.branch and args.role != "supervisor":
        raise CliError("--branch is only for --role supervisor")
    password = read_password()
    engine = make_engine(get_settings(), pool_size=1)
    try:
        advisor_id = None
        if args.advisor_email:
            advisor_id = await advisor_id_by_email(engine, args.advisor_email)
            if advisor_id is None:
                raise CliError(f"no advisor with email {args.advisor_email!r}")
        try:
            branches = await find_branches(engine, args.branch)
        except LookupError as exc:
            raise CliError(str(exc)) from exc
        try:
            user = await create_user(engine, args.username, password, args.role, advisor_id)
        except (UserError, ValueError) as exc:
            raise CliError(str(exc)) from exc
        await assign_branches(engine, user.user_id, [branch_id for branch_id, _ in branches])
    finally:
        await engine.dispose()
    linked = f", advisor {user.advisor_id}" if user.advisor_id is not None else ""
    if branches:
        linked += ", branches " + ", ".join(name for _, name in branches)
    return f"created user {user.username!r} (id {user.user_id}, role {user.role}{linked})"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m api.auth", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    create = commands.add_parser(
        "create-user", help=f"create a staff user (password from {PASSWORD_ENV} or a prompt)"
    )
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument(
        "--advisor-email", help="link the user to this advisor (required for --role advisor)"
    )
    create.add_argument(
        "--branch",
        action="append",
        default=[],
        help="a branch this supervisor sees (repeatable; none: every branch)",
    )
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        print(asyncio.run(create_user_command(args)))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
