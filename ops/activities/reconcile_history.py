"""What a ticket workflow's history says about its ticket, read for the restore's
reconciliation: the start input, the ticket the `create` update answered, and every
record the workflow asked the read model to write (transitions and chat links), with
whether that write finished.

The workflow is the source of truth of a ticket's life, and these payloads are exactly
what the read model was given, event ids included: replaying them through the same
idempotent writes (db.lifecycle) brings a restored row back to what it was, without
inventing anything. Only the recorded history is read; no workflow code runs here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from domain.contracts import (
    APPLY_TRANSITION,
    CREATE_UPDATE,
    RECORD_CHAT_LINK,
    CreateResult,
    LinkRecord,
    NewTicket,
    TicketOutcome,
    TicketView,
    TransitionRecord,
)
from domain.states import TicketAction

_ACTIVITY_GAVE_UP = {
    "activity_task_failed_event_attributes",
    "activity_task_timed_out_event_attributes",
    "activity_task_canceled_event_attributes",
}
#: Closed without a result: no final status to check the row against.
_CLOSED_OTHERWISE = {
    "workflow_execution_failed_event_attributes",
    "workflow_execution_terminated_event_attributes",
    "workflow_execution_timed_out_event_attributes",
    "workflow_execution_canceled_event_attributes",
}

#: The activities that write the read model, and their input types.
_RECORDS: dict[str, type] = {APPLY_TRANSITION: TransitionRecord, RECORD_CHAT_LINK: LinkRecord}


@dataclass
class Record:
    """One write the workflow scheduled on the read model, in history order."""

    payload: TransitionRecord | LinkRecord
    #: The activity finished: the write was made (and may since have been lost by a restore).
    done: bool = False

    @property
    def decided(self) -> bool:
        """A timer's transition (day-end expiry, no-show): the workflow keeps it even when
        the write fails (say, maintenance outlasting its retries), so it may be written
        before its activity does; that activity's retry then finds its event id recorded."""
        rec = self.payload
        return (
            isinstance(rec, TransitionRecord)
            and rec.actor == "system"
            and rec.action in (TicketAction.EXPIRE, TicketAction.NO_SHOW)
        )

    @property
    def replayable(self) -> bool:
        return self.done or self.decided


@dataclass
class TicketLife:
    """A ticket as its workflow's history tells it."""

    new: NewTicket
    #: The ticket the `create` update answered with; None: never created (rejected, timed out).
    created: TicketView | None = None
    records: list[Record] = field(default_factory=list)
    closed: bool = False
    #: The workflow's result (its final status) when it completed normally.
    outcome: TicketOutcome | None = None

    @property
    def pending(self) -> bool:
        """A write of an update is scheduled and not finished: it lands when maintenance
        mode ends, or the workflow rolls that transition back; either way they agree."""
        return any(not r.replayable for r in self.records)


async def _one(converter: DataConverter, payloads: list[Payload], kind: type) -> object:
    (value,) = await converter.decode(payloads, [kind])
    return value


async def read_life(history: WorkflowHistory, converter: DataConverter) -> TicketLife:
    """Parse a TicketWorkflow history (payloads decoded with the client's converter)."""
    life: TicketLife | None = None
    create_updates: set[str] = set()
    scheduled: dict[int, Record] = {}
    for event in history.events:
        which = event.WhichOneof("attributes")
        if which == "workflow_execution_started_event_attributes":
            attrs = event.workflow_execution_started_event_attributes
            new = await _one(converter, list(attrs.input.payloads), NewTicket)
            assert isinstance(new, NewTicket)
            # Started with its row (the API's creation): the input is the created ticket.
            life = TicketLife(new=new, created=new.created.ticket if new.created else None)
        elif life is None:
            continue
        elif which == "workflow_execution_update_accepted_event_attributes":
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if request.input.name == CREATE_UPDATE:
                create_updates.add(request.meta.update_id)
        elif which == "workflow_execution_update_completed_event_attributes":
            done = event.workflow_execution_update_completed_event_attributes
            if done.meta.update_id in create_updates and done.outcome.HasField("success"):
                result = await _one(converter, list(done.outcome.success.payloads), CreateResult)
                assert isinstance(result, CreateResult)
                life.created = life.created or result.ticket
        elif which == "activity_task_scheduled_event_attributes":
            task = event.activity_task_scheduled_event_attributes
            kind = _RECORDS.get(task.activity_type.name)
            if kind is not None:
                payload = await _one(converter, list(task.input.payloads), kind)
                assert isinstance(payload, TransitionRecord | LinkRecord)
                record = Record(payload=payload)
                scheduled[event.event_id] = record
                life.records.append(record)
        elif which == "activity_task_completed_event_attributes":
            finished = event.activity_task_completed_event_attributes.scheduled_event_id
            if finished in scheduled:
                scheduled[finished].done = True
        elif which in _ACTIVITY_GAVE_UP:
            attrs = getattr(event, which)
            failed = scheduled.get(attrs.scheduled_event_id)
            if failed is not None:
                # Given up: the workflow rolled the transition back; nothing to replay.
                life.records.remove(failed)
        elif which == "workflow_execution_completed_event_attributes":
            life.closed = True
            result = event.workflow_execution_completed_event_attributes.result
            if result.payloads:
                outcome = await _one(converter, list(result.payloads), TicketOutcome)
                assert isinstance(outcome, TicketOutcome)
                life.outcome = outcome
        elif which in _CLOSED_OTHERWISE:
            life.closed = True
    if life is None:
        raise ValueError("history without a start event")
    return life
