"""One customer message: enqueue it, wait for the bridge's report, retry on schedule."""

from __future__ import annotations

import uuid
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
    from workflows.search import MESSAGE_KIND, TICKET_REFERENCE

#: Waits before the 2nd, 3rd and 4th attempts; after the 4th the message is FAILED.
RETRY_DELAYS = (timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120))
#: How long a published message may sit undelivered (bridge down) before we stop watching it.
REPORT_DEADLINE = timedelta(hours=24)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)


#: Behind this patch (histories recorded before it replay the old way):
#: each enqueue carries its attempt number and a report of another attempt is ignored;
#: a message never reported on by the deadline is marked FAILED (give-up) instead of
#: being left PENDING.
PATCH_REPORT_ATTEMPTS = "notification-report-attempts"
#: Behind this patch, a message carries TicketReference and MessageKind search attributes.
PATCH_SEARCH_ATTRIBUTES = "notification-search-attributes"
#: Behind this patch (one marker and version upsert instead of the two above, whose
#: behaviour it includes): the search attributes are upserted only when the starter did
#: not set them at start. The enqueue stays a (non-local) activity: as a local activity it
#: took the worker's local-activity slots from ticket creations under load.
PATCH_START_ATTRIBUTES = "notification-attributes-at-start"


@workflow.defn(name=NOTIFICATION_WORKFLOW)
class NotificationWorkflow:
    def __init__(self) -> None:
        self._report: DeliveryReport | None = None
        #: The attempt whose report is awaited (None: unpatched run, any report is taken).
        self._attempt: int | None = None

    @workflow.run
    async def run(self, req: NotificationRequest) -> NotificationOutcome:
        attempt = 0
        current = workflow.patched(PATCH_START_ATTRIBUTES)
        tagged = current or workflow.patched(PATCH_REPORT_ATTEMPTS)
        given = workflow.info().typed_search_attributes.get(TICKET_REFERENCE) is not None
        if (current and not given) or (not current and workflow.patched(PATCH_SEARCH_ATTRIBUTES)):
            workflow.upsert_search_attributes(
                [
                    TICKET_REFERENCE.value_set(str(req.ticket_reference)),
                    MESSAGE_KIND.value_set(req.kind),
                ]
            )
        while True:
            request = req
            if tagged:
                # A report still held from an earlier attempt is stale by now.
                self._attempt, self._report = attempt, None
                request = req.model_copy(update={"attempt": attempt})
            enqueued = await workflow.execute_activity(
                ENQUEUE_NOTIFICATION,
                request,
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
                if not tagged:
                    return NotificationOutcome(
                        message_id=enqueued.message_id, state=MessageState.PENDING
                    )
                # Dead-lettered unseen, or the bridge away for a day: never delivered.
                await self._give_up(
                    req,
                    enqueued.message_id,
                    f"no delivery report within {REPORT_DEADLINE.total_seconds() / 3600:g} h"
                    " (dead-lettered, expired or the bridge away)",
                )
                return NotificationOutcome(
                    message_id=enqueued.message_id, state=MessageState.FAILED
                )
            report = self._report
            assert report is not None
            self._report = None
            if report.outcome != DeliveryOutcome.RETRY:
                return NotificationOutcome(message_id=report.message_id, state=report.outcome)
            if attempt >= len(RETRY_DELAYS):
                await self._give_up(req, report.message_id, report.error or "retries exhausted")
                return NotificationOutcome(message_id=report.message_id, state=MessageState.FAILED)
            delay = RETRY_DELAYS[attempt]
            if report.retry_after_seconds and report.retry_after_seconds > delay.total_seconds():
                delay = timedelta(seconds=report.retry_after_seconds)
            attempt += 1
            if tagged:
                self._attempt = attempt  # reports arriving during the sleep are stale
            await workflow.sleep(delay)

    @staticmethod
    async def _give_up(req: NotificationRequest, message_id: uuid.UUID, error: str) -> None:
        await workflow.execute_activity(
            GIVE_UP_NOTIFICATION,
            GiveUpRequest(message_id=message_id, kind=req.kind, error=error),
            result_type=bool,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )

    @workflow.signal(name=REPORT_DELIVERY_SIGNAL)
    def report_delivery(self, report: DeliveryReport) -> None:
        if (
            self._attempt is not None
            and report.attempt is not None
            and report.attempt != self._attempt
        ):
            workflow.logger.info(
                "ignoring a report of attempt %s while on attempt %s",
                report.attempt,
                self._attempt,
            )
            return
        self._report = report
