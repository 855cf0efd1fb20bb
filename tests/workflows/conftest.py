"""Fixtures of the workflow tests: a time-skipping Temporal test server per module (its
clock jumps are the module's own), with the search attributes the workflows upsert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.lifecycle import LifecycleActivities
from activities.notifications import NotificationActivities
from activities.publisher import Publisher
from activities.tickets import TicketActivities
from workflows.notification import NotificationWorkflow
from workflows.search import ensure_search_attributes
from workflows.ticket import TicketWorkflow

TEST_SERVER = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "temporal-test-server"


async def time_skipping() -> WorkflowEnvironment:
    """A fresh time-skipping server (the installed binary when there is one)."""
    server = TEST_SERVER if TEST_SERVER.exists() else None
    return await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(server) if server else None,
    )


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await time_skipping() as environment:
        await ensure_search_attributes(environment.client, "default")
        yield environment


@pytest.fixture(scope="module")
async def engine(db: AsyncEngine) -> AsyncEngine:
    """The test stack's database (the session's engine, under the name these tests use)."""
    return db


def ticket_worker(
    env: WorkflowEnvironment, engine: AsyncEngine, publisher: Publisher, task_queue: str
) -> Worker:
    """The ticket and notification workflows with their real activities, as worker.py
    registers them, on a test's own task queue."""
    tickets = TicketActivities(engine, "America/Santiago", publisher)
    notes = NotificationActivities(engine, publisher)
    lifecycle = LifecycleActivities(engine, env.client, publisher)
    return Worker(
        env.client,
        task_queue=task_queue,
        workflows=[TicketWorkflow, NotificationWorkflow],
        activities=[
            tickets.create_ticket,
            lifecycle.apply_transition,
            lifecycle.after_queue_change,
            lifecycle.link_chat,
            notes.enqueue_notification,
            notes.give_up_notification,
        ],
    )
