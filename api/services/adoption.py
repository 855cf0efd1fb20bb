"""Starting a persisted ticket's workflows, and adopting rows whose start was never seen.

The API commits a ticket, then starts its workflow (and, with a chat, its "created"
message). Both starts are idempotent (fixed workflow ids, never reused), so any process
may repeat them: the creating request, its retry with the same Idempotency-Key, or the
sweep here, which every `ticket_adoption_seconds` starts the workflows of rows still
unadopted after that long (an API that died between commit and start, or a Temporal
that was away). Every API replica sweeps; two starting the same ticket start it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from activities.notifications import start_message_workflow
from api.resources import Resources
from db import adoption as store
from domain.contracts import (
    MSG_CREATED,
    CreateResult,
    NewTicket,
    NotificationRequest,
    ticket_workflow_id,
)
from workflows import search
from workflows.ticket import TicketWorkflow

log = logging.getLogger("ticketero.api.adoption")
#: The workflow's `create` update. The SDK types an async update registered under a name
#: as returning its coroutine; at run time the result type comes from the annotation.
CREATE: UpdateMethodMultiParam[[TicketWorkflow, str], CreateResult] = TicketWorkflow.create  # type: ignore[assignment]
#: Rows marked started are written together, at most this long after their start.
MARK_DELAY_SECONDS = 0.2
#: Rows adopted per sweep (the next sweep takes the rest).
SWEEP_BATCH = 100


def base_attributes(new: NewTicket) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(search.BRANCH_OFFICE, new.branch_office),
            SearchAttributePair(search.QUEUE_NAME, new.queue),
        ]
    )


def given_attributes(
    new: NewTicket, attributes: TypedSearchAttributes | None = None
) -> TypedSearchAttributes:
    """Every search attribute of a persisted ticket's workflow, set at its start."""
    assert new.created is not None and new.created.ticket is not None
    ticket = new.created.ticket
    return TypedSearchAttributes(
        [
            *(attributes or base_attributes(new)),
            SearchAttributePair(search.TICKET_NUMBER, ticket.number),
            SearchAttributePair(search.TICKET_STATUS, ticket.status),
        ]
    )


async def start_workflows(
    client: Client,
    new: NewTicket,
    task_queue: str,
    attributes: TypedSearchAttributes,
    *,
    multi_operations: bool = True,
) -> None:
    """Start the ticket's workflow from its row (`new.created`) with every search attribute
    it needs and wait for its first task (its `create` update answers from the row: no
    local activity), and start its "created" message when a chat was given; both at once.
    Waiting for the first task keeps an overloaded stack answering 503, not piling up
    workflow tasks behind every later one. Started already (running or finished) counts as
    done; a `create` refusal (WorkflowUpdateFailedError) and Temporal's errors raise.
    `multi_operations=False`: start, then update (servers without update-with-start)."""
    starts = [
        _start_ticket(client, new, task_queue, given_attributes(new, attributes), multi_operations)
    ]
    message = created_message(new)
    if message is not None:
        starts.append(start_message_workflow(client, message, task_queue))
    outcomes = await asyncio.gather(*starts, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def created_message(new: NewTicket) -> NotificationRequest | None:
    """The "ticket created" message of a ticket given a chat at creation."""
    if new.telegram_chat_id is None:
        return None
    return NotificationRequest(
        ticket_reference=new.reference,
        kind=MSG_CREATED,
        chat_id=new.telegram_chat_id,
        language=new.language,
    )


async def _start_ticket(
    client: Client,
    new: NewTicket,
    task_queue: str,
    attributes: TypedSearchAttributes,
    multi_operations: bool,
) -> None:
    workflow_id = ticket_workflow_id(new.reference)
    options: dict[str, Any] = {
        "id": workflow_id,
        "task_queue": task_queue,
        "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
        "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
        "search_attributes": attributes,
    }
    try:
        if multi_operations:
            operation = WithStartWorkflowOperation(TicketWorkflow.run, new, **options)
            collect_start_error(operation)
            await client.execute_update_with_start_workflow(
                CREATE, new.fingerprint, start_workflow_operation=operation
            )
            return
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await client.start_workflow(TicketWorkflow.run, new, **options)
        handle: WorkflowHandle[TicketWorkflow, Any] = client.get_workflow_handle(workflow_id)
        await handle.execute_update(CREATE, new.fingerprint)
    except WorkflowAlreadyStartedError:
        return  # finished: its id is never reused, and the row answers
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        # Finished between the start and the update: the row answers.


def collect_start_error(operation: WithStartWorkflowOperation[Any, Any]) -> None:
    """Nobody awaits the operation's start handle: on a failed or cut call (our 503 path)
    the SDK puts the error there too, and asyncio would log it at ERROR as "Future exception
    was never retrieved". The error itself is handled where the call raises it."""
    handle: asyncio.Future[Any] | None = getattr(operation, "_workflow_handle", None)
    if handle is not None:
        handle.add_done_callback(lambda f: f.cancelled() or f.exception())


class StartedMarks:
    """Rows whose workflows were seen started, written in one UPDATE every 200 ms: the
    request does not wait for it, and a mark lost (a crash) costs one idempotent start."""

    def __init__(self, res: Resources) -> None:
        self._res = res
        self._pending: set[uuid.UUID] = set()

    def add(self, reference: uuid.UUID) -> None:
        if not self._pending:
            self._res.background(self._flush())
        self._pending.add(reference)

    async def _flush(self) -> None:
        await asyncio.sleep(MARK_DELAY_SECONDS)
        references, self._pending = list(self._pending), set()
        try:
            await store.mark_started(self._res.engine, references)
        except Exception as err:  # the sweep adopts them again, harmlessly
            log.warning("%d started marks not written: %s", len(references), type(err).__name__)


def seen_started(res: Resources, reference: uuid.UUID) -> None:
    marks = res.extras.get("started_marks")
    if not isinstance(marks, StartedMarks):
        marks = res.extras["started_marks"] = StartedMarks(res)
    marks.add(reference)


async def adopt_once(res: Resources) -> int:
    """Start the workflows of rows left unadopted; the number of rows adopted."""
    age = timedelta(seconds=res.settings.ticket_adoption_seconds)
    rows = await store.unadopted(res.engine, age, SWEEP_BATCH)
    if not rows:
        return 0
    client = await res.temporal.get()
    done: list[uuid.UUID] = []
    for row in rows:
        if row.active:
            try:
                await start_workflows(
                    client,
                    row.new,
                    res.settings.temporal_task_queue,
                    base_attributes(row.new),
                    multi_operations=res.settings.temporal_multi_operations,
                )
            except WorkflowUpdateFailedError as err:  # it runs, and refused: nothing to adopt
                log.warning("ticket %s: %s", row.new.reference, err.cause)
            except Exception as err:  # next sweep
                log.warning("ticket %s not adopted: %s", row.new.reference, type(err).__name__)
                continue
            log.info("adopted ticket %s (its creator never saw it started)", row.new.reference)
        done.append(row.new.reference)
    await store.mark_started(res.engine, done)
    return len(done)


async def sweep_forever(res: Resources) -> None:
    """The API's adoption loop (lifespan task); errors wait for the next round."""
    interval = res.settings.ticket_adoption_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            await adopt_once(res)
        except Exception as err:
            log.warning("adoption sweep failed: %s", type(err).__name__)
