"""The operations worker: backup, restore, maintenance and deploys on their own task
queue and in their own process (`python -m ops.worker`; `make run`, the test stack and
the `ops-worker` compose service start it), so a long dump or VACUUM never delays a
ticket's workflow task nor shares its slots, connections or shutdown period."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from db.engine import make_engine
from observability.logs import setup_logging
from observability.metrics_server import serve_metrics
from ops.activities.backup import BackupActivities
from ops.activities.deploy import deploy_activities
from ops.activities.maintenance import DiskUsageProbe, MaintenanceActivities
from ops.activities.maintenance_db import DatabaseMaintenanceActivities
from ops.activities.maintenance_mode import MaintenanceModeActivities
from ops.activities.reconcile import ReconcileActivities
from ops.activities.reports import OpsReportActivities
from ops.activities.restore import RestoreActivities
from ops.contracts import ops_task_queue
from ops.schedules import register_schedules
from ops.search import ensure_ops_attributes
from ops.workflows.backup import BackupWorkflow
from ops.workflows.deploy import DEPLOY_WORKFLOWS
from ops.workflows.exclusive import ExclusiveOperation
from ops.workflows.maintenance import MaintenanceWorkflow
from ops.workflows.restore import RestoreWorkflow
from settings import Settings, get_settings

log = logging.getLogger("ticketero.ops.worker")
# As in worker.py: only pure, import-side-effect-free data modules pass through; the ops
# workflow modules themselves are re-imported per run, so the sandbox still guards their
# clock, randomness and I/O.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "pydantic", "pydantic_core", "annotated_types", "domain", "ops.contracts"
    )
)
#: Dumps, restores and VACUUM are heavy: a few at a time per worker is plenty; the
#: pool has as many connections (the tools themselves connect on their own).
MAX_CONCURRENT_ACTIVITIES = 4


def build_ops_worker(
    client: Client,
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    disk_usage: DiskUsageProbe | None = None,
) -> Worker:
    """The Worker for `<temporal_task_queue>-ops` (`engine`/`disk_usage`: test seams)."""
    engine = engine or make_engine(settings, pool_size=MAX_CONCURRENT_ACTIVITIES)
    backup = BackupActivities(engine, settings)
    restore = RestoreActivities(engine, settings)
    reconcile = ReconcileActivities(engine, client, settings)
    checks = MaintenanceActivities(settings, disk_usage=disk_usage)
    database = DatabaseMaintenanceActivities(engine)
    switch = MaintenanceModeActivities(engine)
    reports = OpsReportActivities(engine, settings)
    return Worker(
        client,
        task_queue=ops_task_queue(settings),
        workflows=[
            BackupWorkflow,
            RestoreWorkflow,
            MaintenanceWorkflow,
            ExclusiveOperation,
            *DEPLOY_WORKFLOWS,
        ],
        activities=[
            backup.dump,
            backup.verify,
            backup.retention,
            restore.pick,
            restore.apply,
            restore.integrity,
            reconcile.reconcile,
            switch.enter,
            switch.leave,
            reports.store,
            reports.notify,
            checks.health,
            checks.disk,
            checks.error_logs,
            checks.clean_logs,
            database.analyze,
            database.reindex,
            database.purge_messages,
            database.db_size,
            database.vacuum_full,
            checks.rotate_logs,
            checks.pull_images,
            checks.tls_expiry,
            *deploy_activities(settings),
        ],
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
        workflow_runner=SANDBOX,
    )


async def start_ops_worker(client: Client, settings: Settings) -> Worker:
    """Register the schedules (a server without Schedules, like the time-skipping test
    server, only logs a warning) and build the ops worker."""
    try:
        await ensure_ops_attributes(client, settings.temporal_namespace)
        await register_schedules(client, settings)
    except RPCError as err:
        log.warning("operations schedules not registered: %s", err)
    return build_ops_worker(client, settings)


async def main() -> None:
    settings = get_settings()
    setup_logging(
        "ops-worker",
        settings.log_level,
        settings.log_format,
        settings.log_dir if settings.log_to_file else None,
    )
    serve_metrics(settings.ops_worker_metrics_port, "ops-worker")
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
    worker = await start_ops_worker(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("ops worker polling task queue %s", ops_task_queue(settings))
    async with worker:
        await stop.wait()
        log.info("ops worker stopping: finishing in-flight tasks")


if __name__ == "__main__":
    asyncio.run(main())
