"""The operations worker: backup, restore and maintenance on their own task queue,
so a long dump or VACUUM never delays a ticket's workflow task."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from db.engine import make_engine
from ops.activities.backup import BackupActivities
from ops.activities.deploy import deploy_activities
from ops.activities.maintenance import DiskUsageProbe, MaintenanceActivities
from ops.activities.maintenance_db import DatabaseMaintenanceActivities
from ops.activities.maintenance_mode import MaintenanceModeActivities
from ops.activities.reports import OpsReportActivities
from ops.activities.restore import RestoreActivities
from ops.contracts import ops_task_queue
from ops.schedules import register_schedules
from ops.workflows.backup import BackupWorkflow
from ops.workflows.deploy import DEPLOY_WORKFLOWS
from ops.workflows.exclusive import ExclusiveOperation
from ops.workflows.maintenance import MaintenanceWorkflow
from ops.workflows.restore import RestoreWorkflow
from settings import Settings

log = logging.getLogger("ticketero.ops.worker")
# Same reasoning as worker.py: our workflow modules are import-side-effect free.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
)
#: Dumps, restores and VACUUM are heavy: a few at a time per worker is plenty.
MAX_CONCURRENT_ACTIVITIES = 4


def build_ops_worker(
    client: Client,
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    disk_usage: DiskUsageProbe | None = None,
) -> Worker:
    """The Worker for `<temporal_task_queue>-ops` (`engine`/`disk_usage`: test seams)."""
    engine = engine or make_engine(settings, pool_size=2)
    backup = BackupActivities(engine, settings)
    restore = RestoreActivities(engine, settings)
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
        graceful_shutdown_timeout=timedelta(seconds=10),
        workflow_runner=SANDBOX,
    )


async def start_ops_worker(client: Client, settings: Settings) -> Worker:
    """Register the schedules (a server without Schedules, like the time-skipping test
    server, only logs a warning) and build the ops worker, for worker.py."""
    try:
        await register_schedules(client, settings)
    except RPCError as err:
        log.warning("operations schedules not registered: %s", err)
    return build_ops_worker(client, settings)
