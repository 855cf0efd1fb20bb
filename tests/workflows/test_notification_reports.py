"""NotificationWorkflow reports (issue 12, point 6), on the time-skipping server with
stand-in activities: a report of an earlier attempt (redelivered during the retry sleep)
is ignored, and a message never reported on ends FAILED (given up) at the deadline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.contracts import (
    ENQUEUE_NOTIFICATION,
    GIVE_UP_NOTIFICATION,
    REPORT_DELIVERY_SIGNAL,
    DeliveryReport,
    EnqueuedNotification,
    GiveUpRequest,
    NotificationOutcome,
    NotificationRequest,
)
from tests.support.wait import eventually
from workflows.notification import NotificationWorkflow


@dataclass
class FakeNotifications:
    message_id: uuid.UUID = field(default_factory=uuid.uuid4)
    attempts: list[int | None] = field(default_factory=list)
    given_up: list[GiveUpRequest] = field(default_factory=list)

    @activity.defn(name=ENQUEUE_NOTIFICATION)
    async def enqueue(self, req: NotificationRequest) -> EnqueuedNotification:
        self.attempts.append(getattr(req, "attempt", None))
        return EnqueuedNotification(message_id=self.message_id)

    @activity.defn(name=GIVE_UP_NOTIFICATION)
    async def give_up(self, req: GiveUpRequest) -> bool:
        self.given_up.append(req)
        return True


@asynccontextmanager
async def notification_run(
    client: Client, fake: FakeNotifications
) -> AsyncIterator[WorkflowHandle[NotificationWorkflow, NotificationOutcome]]:
    queue = f"notif-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[NotificationWorkflow],
        activities=[fake.enqueue, fake.give_up],
    ):
        handle = await client.start_workflow(
            NotificationWorkflow.run,
            NotificationRequest(ticket_reference=uuid.uuid4(), kind="TICKET_CREATED", chat_id=1),
            id=f"notif-test-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        yield handle


def report(fake: FakeNotifications, outcome: str, attempt: int) -> DeliveryReport:
    return DeliveryReport.model_validate(
        {"message_id": fake.message_id, "outcome": outcome, "error": "x", "attempt": attempt}
    )


async def _sleeping(handle: WorkflowHandle[NotificationWorkflow, NotificationOutcome]) -> bool:
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            return True
    return False


async def test_a_stale_report_of_the_previous_attempt_is_ignored(
    env: WorkflowEnvironment,
) -> None:
    fake = FakeNotifications()
    async with notification_run(env.client, fake) as handle:
        await eventually(lambda: _one(fake.attempts, 1), what="the first enqueue")
        await handle.signal(REPORT_DELIVERY_SIGNAL, report(fake, "RETRY", 0))
        await eventually(lambda: _sleeping(handle), what="the retry sleep")
        # The first attempt's report again (a redelivered copy), during the sleep.
        await handle.signal(REPORT_DELIVERY_SIGNAL, report(fake, "SENT", 0))
        await env.sleep(31)
        await eventually(lambda: _one(fake.attempts, 2), what="the second enqueue")
        # The second attempt's own report is the one that counts.
        await handle.signal(REPORT_DELIVERY_SIGNAL, report(fake, "FAILED", 1))
        outcome = await handle.result()
    assert fake.attempts == [0, 1]
    assert outcome.state == "FAILED", "the stale SENT report was taken by the next attempt"


async def test_a_message_never_reported_on_ends_failed_with_its_reason(
    env: WorkflowEnvironment,
) -> None:
    fake = FakeNotifications()
    async with notification_run(env.client, fake) as handle:
        outcome = await handle.result()  # time skips past the 24 h deadline
    assert outcome.state == "FAILED"
    [gave_up] = fake.given_up
    assert gave_up.message_id == fake.message_id
    assert "no delivery report within 24 h" in gave_up.error


async def _one(items: list[int | None], count: int) -> bool:
    return len(items) >= count
