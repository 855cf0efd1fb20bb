"""Temporal worker: runs the ticket and notification workflows and their activities.

The operations (backup, restore, maintenance, deploy) run in their own process,
`python -m ops.worker`: a dump or a VACUUM never competes with tickets for slots,
connections or CPU, and each process stops within its own one graceful period.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.lifecycle import LifecycleActivities
from activities.notifications import NotificationActivities
from activities.publisher import Publisher
from activities.tickets import TicketActivities
from db.engine import make_engine
from observability.logs import setup_logging
from observability.metrics_server import serve_metrics
from settings import Settings, get_settings
from workflows.client import connect_temporal, metrics_runtime
from workflows.notification import NotificationWorkflow
from workflows.search import ensure_search_attributes
from workflows.ticket import TicketWorkflow

log = logging.getLogger("ticketero.worker")
# The hot workflows (a ticket and its notifications) run UNSANDBOXED. The sandbox built a
# fresh module world for every new workflow instance, re-importing `workflows.*`: a third
# of the worker's CPU per ticket, and every cached instance kept its own copy of those
# modules (RSS grew with the sticky cache). Determinism is guarded before a deploy instead
# of at run time, which is now safe because both guards run in `make test`:
#  - tests/workflows/test_workflow_determinism_guard.py reads workflows/*.py (AST) and fails
#    on a host clock, randomness, uuid4, asyncio.sleep, I/O, os.environ, threads, or a
#    module-level import of db/activities/httpx/sqlalchemy/aio_pika outside
#    `workflow.unsafe.imports_passed_through()`;
#  - tests/workflows/test_replay.py replays every recorded history with WORKFLOW_RUNNER,
#    this very runner, so a change of commands without `workflow.patched` fails there.
# SANDBOX (settings.worker_sandboxed_workflows) is the old runtime guard, kept to chase a
# suspected non-determinism on a dev stack: it passes through only side-effect-free modules
# (pydantic, our pure `domain`), never `workflows.*`, so their calls stay checked there.
WORKFLOW_RUNNER: WorkflowRunner = UnsandboxedWorkflowRunner()
SANDBOX: WorkflowRunner = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "pydantic", "pydantic_core", "annotated_types", "domain"
    )
)


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """The production runner, or the sandbox when a dev stack asks for runtime checks."""
    return SANDBOX if settings.worker_sandboxed_workflows else WORKFLOW_RUNNER


def activity_slots(settings: Settings) -> int:
    """Activities at once (and local activities at once): no more than the pool has
    connections (DB_POOL_SIZE + DB_MAX_OVERFLOW), not the SDK's default 100 feeding 20."""
    return max(1, settings.db_pool_size + settings.db_max_overflow)


def build_worker(client: Client, settings: Settings, publisher: Publisher) -> Worker:
    engine = make_engine(settings)
    tickets = TicketActivities(engine, settings.default_time_zone, publisher)
    lifecycle = LifecycleActivities(engine, client, publisher)
    notifications = NotificationActivities(engine, publisher)
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[TicketWorkflow, NotificationWorkflow],
        activities=[
            tickets.create_ticket,
            lifecycle.apply_transition,
            lifecycle.after_queue_change,
            lifecycle.link_chat,
            notifications.enqueue_notification,
            notifications.give_up_notification,
        ],
        max_concurrent_activities=activity_slots(settings),
        max_concurrent_local_activities=activity_slots(settings),
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
        workflow_runner=workflow_runner(settings),
        max_cached_workflows=settings.worker_max_cached_workflows,
    )


async def main() -> None:
    settings = get_settings()
    setup_logging(
        "worker",
        settings.log_level,
        settings.log_format,
        settings.log_dir if settings.log_to_file else None,
    )
    serve_metrics(settings.worker_metrics_port, "worker")
    client = await connect_temporal(settings, metrics_runtime(settings.worker_sdk_metrics_port))
    added = await ensure_search_attributes(client, settings.temporal_namespace)
    if added:
        log.info("search attributes registered: %s", ", ".join(added))
    publisher = Publisher(settings.rabbitmq_url.get_secret_value(), settings.rabbitmq_exchange)
    worker = build_worker(client, settings, publisher)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling task queue %s", settings.temporal_task_queue)
    async with worker:
        await stop.wait()
        log.info("worker stopping: finishing in-flight tasks")
    await publisher.close()


if __name__ == "__main__":
    asyncio.run(main())
