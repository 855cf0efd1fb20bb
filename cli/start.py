"""`backup`, `restore`, `maintenance`, `deploy`, `rollback`: start a workflow, then follow it."""

from __future__ import annotations

import argparse

from pydantic import BaseModel

from cli.common import CliError, temporal
from cli.output import EXIT_FAILED, EXIT_OK, echo, exit_code, print_live, print_report
from ops.client import OperationConflict, follow, start_operation, temporal_url
from ops.contracts import (
    BACKUP_WORKFLOW,
    DEPLOY_WORKFLOW,
    MAINTENANCE_WORKFLOW,
    RESTORE_WORKFLOW,
    ROLLBACK_WORKFLOW,
    BackupRequest,
    DeployRequest,
    MaintenanceRequest,
    RestoreRequest,
    RollbackRequest,
    ops_task_queue,
)
from settings import Settings


async def start_and_follow(
    settings: Settings, workflow: str, request: BaseModel, kind: str, wait: bool
) -> int:
    """Print the id and UI link; unless --no-wait, follow to the end and exit by outcome."""
    client = await temporal(settings)
    try:
        started = await start_operation(client, settings, workflow, request, kind)
    except OperationConflict as err:
        raise CliError(str(err)) from err
    echo(f"started {started.workflow_id}")
    echo(f"  {started.temporal_url}")
    if not wait:
        return EXIT_OK
    run = await follow(client, started.workflow_id, echo, ops_task_queue(settings))
    if run.report is not None:
        print_report(run.report)
        return exit_code(run.report)
    print_live(run, temporal_url(settings, run.workflow_id), settings.ops_time_zone)
    return EXIT_OK if run.status == "COMPLETED" else EXIT_FAILED


def _request(args: argparse.Namespace) -> tuple[str, BaseModel, str]:
    """The workflow name, its input and the id's kind for one start command."""
    try:
        if args.command == "backup":
            backup = BackupRequest(variant=args.variant.replace("-", "_"), reason="operator (cli)")
            return BACKUP_WORKFLOW, backup, "backup"
        if args.command == "restore":
            return RESTORE_WORKFLOW, RestoreRequest(backup=args.backup), "restore"
        if args.command == "maintenance":
            maintenance = MaintenanceRequest(routine=args.routine)
            return MAINTENANCE_WORKFLOW, maintenance, f"maintenance-{args.routine}"
        if args.command == "deploy":
            return DEPLOY_WORKFLOW, DeployRequest(version=args.version), "deploy"
        if args.command == "rollback":
            return ROLLBACK_WORKFLOW, RollbackRequest(version=args.version), "rollback"
    except ValueError as err:  # pydantic's ValidationError: e.g. a version with a space
        raise CliError(f"invalid {args.command} request: {err}", 2) from err
    raise CliError(f"unknown command {args.command}", 2)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    workflow, request, kind = _request(args)
    return await start_and_follow(settings, workflow, request, kind, args.wait)


def add_wait_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait", dest="wait", action="store_true", default=True, help="follow to the end (default)"
    )
    parser.add_argument(
        "--no-wait", dest="wait", action="store_false", help="print the id and link, and return"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("backup", help="dump the database now (BackupWorkflow)")
    p.add_argument("--variant", choices=["full", "clean", "data-only"], default="full")
    add_wait_flags(p)

    p = sub.add_parser("restore", help="restore a backup (RestoreWorkflow)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("backup", nargs="?", help="backup file name in the backup folder")
    which.add_argument("--latest", action="store_true", help="the most recent backup")
    add_wait_flags(p)

    p = sub.add_parser("maintenance", help="run a maintenance routine now")
    p.add_argument("routine", choices=["daily", "weekly", "monthly"])
    add_wait_flags(p)

    p = sub.add_parser("deploy", help="roll a new API version out, rolling back on failure")
    p.add_argument("version", help="image tag, e.g. 1.4.0")
    add_wait_flags(p)

    p = sub.add_parser("rollback", help="put a version back (default: the previous one)")
    p.add_argument("version", nargs="?", default=None)
    add_wait_flags(p)
