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

from activities.backup import BackupActivities
from activities.deploy import deploy_activities
from activities.maintenance import DiskUsageProbe, MaintenanceActivities
from activities.maintenance_mode import MaintenanceModeActivities
from activities.ops_reports import OpsReportActivities
from db.engine import make_engine
from ops.schedules import ops_task_queue, register_schedules
from settings import Settings
from workflows.backup import BackupWorkflow
from workflows.deploy import DEPLOY_WORKFLOWS
from workflows.maintenance import MaintenanceWorkflow
from workflows.restore import RestoreWorkflow

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
    checks = MaintenanceActivities(engine, settings, disk_usage=disk_usage)
    switch = MaintenanceModeActivities(engine)
    reports = OpsReportActivities(engine, settings)
    return Worker(
        client,
        task_queue=ops_task_queue(settings),
        workflows=[BackupWorkflow, RestoreWorkflow, MaintenanceWorkflow, *DEPLOY_WORKFLOWS],
        activities=[
            backup.dump,
            backup.verify,
            backup.retention,
            backup.pick,
            backup.apply,
            backup.integrity,
            switch.enter,
            switch.leave,
            reports.store,
            reports.notify,
            checks.health,
            checks.disk,
            checks.error_logs,
            checks.clean_logs,
            checks.analyze,
            checks.reindex,
            checks.purge_messages,
            checks.db_size,
            checks.vacuum_full,
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
