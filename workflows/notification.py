"""One customer message: enqueue it, wait for the bridge's report, retry on schedule."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.contracts import (
        ENQUEUE_NOTIFICATION,
        GIVE_UP_NOTIFICATION,
        NOTIFICATION_WORKFLOW,
        REPORT_DELIVERY_SIGNAL,
        DeliveryReport,
        EnqueuedNotification,
        GiveUpRequest,
        NotificationOutcome,
        NotificationRequest,
    )
    from domain.states import DeliveryOutcome, MessageState

#: Waits before the 2nd, 3rd and 4th attempts; after the 4th the message is FAILED.
RETRY_DELAYS = (timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120))
#: How long a published message may sit undelivered (bridge down) before we stop watching it.
REPORT_DEADLINE = timedelta(hours=24)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)


@workflow.defn(name=NOTIFICATION_WORKFLOW)
class NotificationWorkflow:
    def __init__(self) -> None:
        self._report: DeliveryReport | None = None

    @workflow.run
    async def run(self, req: NotificationRequest) -> NotificationOutcome:
        attempt = 0
        while True:
            enqueued = await workflow.execute_activity(
                ENQUEUE_NOTIFICATION,
                req,
                result_type=EnqueuedNotification,
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=timedelta(hours=1),
                retry_policy=ACTIVITY_RETRY,
            )
            if enqueued.already_final:
                return NotificationOutcome(
                    message_id=enqueued.message_id, state=enqueued.already_final
                )
            try:
                await workflow.wait_condition(
                    lambda: self._report is not None, timeout=REPORT_DEADLINE
                )
            except TimeoutError:
                return NotificationOutcome(
                    message_id=enqueued.message_id, state=MessageState.PENDING
                )
            report = self._report
            assert report is not None
            self._report = None
            if report.outcome != DeliveryOutcome.RETRY:
                return NotificationOutcome(message_id=report.message_id, state=report.outcome)
            if attempt >= len(RETRY_DELAYS):
                await workflow.execute_activity(
                    GIVE_UP_NOTIFICATION,
                    GiveUpRequest(
                        message_id=report.message_id,
                        kind=req.kind,
                        error=report.error or "retries exhausted",
                    ),
                    result_type=bool,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=ACTIVITY_RETRY,
                )
                return NotificationOutcome(message_id=report.message_id, state=MessageState.FAILED)
            delay = RETRY_DELAYS[attempt]
            if report.retry_after_seconds and report.retry_after_seconds > delay.total_seconds():
                delay = timedelta(seconds=report.retry_after_seconds)
            attempt += 1
            await workflow.sleep(delay)

    @workflow.signal(name=REPORT_DELIVERY_SIGNAL)
    def report_delivery(self, report: DeliveryReport) -> None:
        self._report = report
