"""The life of one ticket, from creation to a final state, as one workflow execution."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.states import TERMINAL_STATUSES, TicketStatus
    from workflows import search
    from workflows.contracts import (
        CREATE_TICKET,
        ERR_ACTIVE_TICKET_EXISTS,
        ERR_IDEMPOTENCY_MISMATCH,
        EXPIRE_TICKET,
        NOTIFICATION_WORKFLOW,
        CreateOutcome,
        CreateResult,
        ExpireRequest,
        NewTicket,
        NotificationRequest,
        TicketOutcome,
        TicketView,
        notification_workflow_id,
    )

#: A start whose `create` update never arrives (it always does with update-with-start) ends.
CREATE_DEADLINE = timedelta(minutes=5)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=5)
)


@workflow.defn(name="TicketWorkflow")
class TicketWorkflow:
    """Entity workflow: the durable state machine; the database is its read model."""

    @workflow.init
    def __init__(self, new: NewTicket) -> None:
        self._new = new
        self._ticket: TicketView | None = None
        self._rejected = False
        self._status: str | None = None
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, new: NewTicket) -> TicketOutcome:
        try:
            await workflow.wait_condition(
                lambda: self._ticket is not None or self._rejected, timeout=CREATE_DEADLINE
            )
        except TimeoutError:
            return TicketOutcome(reference=new.reference, final_status="NOT_CREATED")
        if self._ticket is None:
            workflow.upsert_search_attributes([search.TICKET_STATUS.value_set("REJECTED")])
            await workflow.wait_condition(workflow.all_handlers_finished)
            return TicketOutcome(reference=new.reference, final_status="REJECTED")
        ticket = self._ticket
        workflow.upsert_search_attributes(
            [
                search.TICKET_NUMBER.value_set(ticket.number),
                search.TICKET_STATUS.value_set(ticket.status),
            ]
        )
        if ticket.telegram_chat_id is not None:
            await self._notify("TICKET_CREATED", ticket.telegram_chat_id)
        remaining = ticket.expires_at - workflow.now()
        try:
            await workflow.wait_condition(
                lambda: self._status in TERMINAL_STATUSES, timeout=max(remaining, timedelta(0))
            )
        except TimeoutError:
            await self._expire()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return TicketOutcome(reference=new.reference, final_status=self._status or "UNKNOWN")

    @workflow.update(name="create")
    async def create(self, fingerprint: str) -> CreateResult:
        """Persist the ticket once; a replay with the same request returns it unchanged."""
        async with self._lock:
            if fingerprint != self._new.fingerprint:
                raise ApplicationError(
                    "Idempotency-Key was already used with a different request",
                    type=ERR_IDEMPOTENCY_MISMATCH,
                    non_retryable=True,
                )
            if self._ticket is not None:
                return CreateResult(ticket=self._ticket, created=False)
            outcome = await workflow.execute_local_activity(
                CREATE_TICKET,
                self._new,
                result_type=CreateOutcome,
                start_to_close_timeout=timedelta(seconds=10),
                schedule_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )
            if outcome.ticket is None:
                self._rejected = True
                raise ApplicationError(
                    "an active ticket already exists for this person at this branch",
                    outcome.conflicting.model_dump(mode="json") if outcome.conflicting else None,
                    type=ERR_ACTIVE_TICKET_EXISTS,
                    non_retryable=True,
                )
            self._ticket = outcome.ticket
            self._status = outcome.ticket.status
            return CreateResult(ticket=outcome.ticket, created=True)

    @workflow.query(name="status")
    def status(self) -> str | None:
        return self._status

    async def _notify(self, kind: str, chat_id: int) -> None:
        """Start the message's own workflow; it outlives this one if need be."""
        await workflow.start_child_workflow(
            NOTIFICATION_WORKFLOW,
            NotificationRequest(
                ticket_reference=self._new.reference,
                kind=kind,
                chat_id=chat_id,
                language=self._new.language,
            ),
            id=notification_workflow_id(self._new.reference, kind),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )

    async def _expire(self) -> None:
        self._status = await workflow.execute_activity(
            EXPIRE_TICKET,
            ExpireRequest(
                reference=self._new.reference, event_id=workflow.uuid4(), at=workflow.now()
            ),
            result_type=str,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
        if self._status == TicketStatus.EXPIRED:
            workflow.upsert_search_attributes([search.TICKET_STATUS.value_set(self._status)])
