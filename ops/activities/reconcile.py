"""The restore's reconciliation: the ticket workflows are the source of truth of each
ticket's life, so after a restore the read model is brought back in line with them.

Every ticket workflow of this deployment's task queue that was running when the
archive was dumped or started since (running now, or closed after the dump) is read:
its row is re-inserted if the restore lost it, the writes it made since are replayed
(same payloads, same event ids, through db.lifecycle), the status it holds now is
checked against the row, a called ticket gets its advisor's slot back, and the day's
number counters move past every number it issued, so no number is handed out twice.
What cannot be brought in line is listed, with the reason, in the step's report.

Runs while maintenance mode is on (before the restore switches it off): ticket
activities and the API do not write meanwhile, so nobody takes a ticket mid-way.
Every write is idempotent; a retried or resumed activity simply does it all again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client, WorkflowExecution, WorkflowQueryFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from db import lifecycle
from domain.contracts import (
    STATE_QUERY,
    TICKET_WORKFLOW,
    LinkRecord,
    TicketState,
    TransitionRecord,
)
from domain.numbering import business_day, sequence_of
from domain.states import ACTIVE_STATUSES, BEING_SERVED_STATUSES
from ops.activities import reconcile_rows as rows
from ops.activities.archives import archive_stamp
from ops.activities.heartbeat import beat
from ops.activities.reconcile_history import TicketLife, read_life
from ops.contracts import BACKUP_REFUSED, RESTORE_RECONCILE, ReconcileJob, Step
from settings import Settings

#: Workflows closed up to this long before the dump's stamp are read too (clock skew).
MARGIN = timedelta(hours=1)
QUERY_TIMEOUT = timedelta(seconds=10)
_ACTIVE = {s.value for s in ACTIVE_STATUSES}
_BEING_SERVED = {s.value for s in BEING_SERVED_STATUSES}


def _now() -> datetime:
    return datetime.now(UTC)


def dumped_at(file_name: str) -> datetime:
    """The UTC moment in an archive's name (the backup's start, before its dump)."""
    stamp = archive_stamp(file_name)
    if not stamp:
        raise ApplicationError(
            f"{file_name} is not a backup name", type=BACKUP_REFUSED, non_retryable=True
        )
    return datetime.strptime(stamp, "%Y%m%d_%H%M%S").replace(tzinfo=UTC)


def visibility_query(task_queue: str, since: datetime) -> str:
    """Ticket workflows of this deployment that may have moved on since `since`."""
    queue = task_queue.replace("'", "")
    moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"WorkflowType = '{TICKET_WORKFLOW}' AND TaskQueue = '{queue}'"
        f" AND (ExecutionStatus = 'Running' OR CloseTime >= '{moment}')"
    )


@dataclass
class Tally:
    """What the reconciliation did, for the report."""

    workflows: int = 0
    not_created: int = 0
    rows_restored: int = 0
    events_restored: int = 0
    statuses_set: int = 0
    slots_restored: int = 0
    pending: int = 0
    consistent: int = 0
    #: (branch id, queue, business day) -> the highest sequence issued.
    issued: dict[tuple[int, str, date], int] = field(default_factory=dict)
    counters_moved: list[dict[str, Any]] = field(default_factory=list)
    #: Why state queries go unanswered (set by the first that timed out).
    queries_down: str | None = None
    unreconciled: list[dict[str, str]] = field(default_factory=list)

    def refuse(self, life: TicketLife, reason: str) -> None:
        number = life.created.number if life.created else ""
        self.unreconciled.append(
            {
                "workflow_id": f"ticket-{life.new.reference}",
                "number": number,
                "branch": life.new.branch_office,
                "reason": reason,
            }
        )


class ReconcileActivities:
    """Reads ticket workflows (client) and writes the read model (engine)."""

    def __init__(self, engine: AsyncEngine, client: Client, settings: Settings) -> None:
        self._engine = engine
        self._client = client
        self._queue = settings.temporal_task_queue

    @activity.defn(name=RESTORE_RECONCILE)
    async def reconcile(self, job: ReconcileJob) -> Step:
        """List, re-project, verify, move counters; heartbeats per workflow."""
        started = _now()
        since = dumped_at(job.file_name) - MARGIN
        tally = Tally()
        query = visibility_query(self._queue, since)
        async for execution in self._client.list_workflows(query):
            beat(workflow_id=execution.id, done=tally.workflows)
            tally.workflows += 1
            await self._one(execution, tally)
        for (branch_id, queue, day), issued in sorted(tally.issued.items()):
            beat(counter=f"{branch_id}/{queue}/{day}")
            moved = await rows.move_counter(self._engine, branch_id, queue, day, issued)
            if moved is not None:
                tally.counters_moved.append(
                    {
                        "branch_id": branch_id,
                        "queue": queue,
                        "day": day.isoformat(),
                        "from": moved[0],
                        "to": moved[1],
                    }
                )
        return _step(tally, since, started)

    async def _one(self, execution: WorkflowExecution, tally: Tally) -> None:
        try:
            life = await self._life(execution)
        except ValueError as err:  # pydantic's ValidationError too: a payload we cannot read
            tally.unreconciled.append(
                {
                    "workflow_id": execution.id,
                    "number": "",
                    "branch": "",
                    "reason": f"its history could not be read: {str(err)[:200]}",
                }
            )
            return
        ticket = life.created
        if ticket is None:
            tally.not_created += 1
            return
        branch = await rows.branch_named(self._engine, ticket.branch_office)
        if branch is None:
            tally.refuse(life, f"branch {ticket.branch_office!r} is not in the restored database")
            return
        day = business_day(ticket.created_at, branch.time_zone)
        key = (branch.id, life.new.queue, day)
        tally.issued[key] = max(tally.issued.get(key, 0), sequence_of(ticket.number))
        before = await rows.ticket_row(self._engine, life.new.reference)
        try:
            if before is None and await rows.insert_ticket(self._engine, life.new, ticket, branch):
                tally.rows_restored += 1
            for record in life.records:
                if record.replayable:
                    await self._replay(record.payload)
        except IntegrityError as err:
            tally.refuse(life, rows.why_refused(err))
            return
        except lifecycle.TicketGone:
            tally.refuse(life, "its row could not be restored")
            return
        after = await rows.ticket_row(self._engine, life.new.reference)
        assert after is not None
        tally.events_restored += after.events - (before.events if before else 0)
        if life.pending:
            # A write waits for maintenance mode to end (ensure_writable); it lands then.
            tally.pending += 1
            return
        try:
            status = await self._state(execution, life, tally)
        except _QueryFailed as err:
            tally.refuse(life, f"state query failed ({err}); row re-projected from history only")
            return
        moved_on = status is not None and status != after.status
        if moved_on and (await self._life(execution)).pending:
            # A timer fired since the history was read: its write lands after maintenance.
            tally.pending += 1
            return
        await self._verify(status, life, after, tally)

    async def _life(self, execution: WorkflowExecution) -> TicketLife:
        handle = self._client.get_workflow_handle(execution.id, run_id=execution.run_id)
        return await read_life(await handle.fetch_history(), self._client.data_converter)

    async def _replay(self, payload: TransitionRecord | LinkRecord) -> None:
        if isinstance(payload, TransitionRecord):
            await lifecycle.apply_transition(self._engine, payload)
        else:
            await lifecycle.link_chat(self._engine, payload)

    async def _state(
        self, execution: WorkflowExecution, life: TicketLife, tally: Tally
    ) -> str | None:
        """The status the workflow holds: its result if closed, its answer if running.
        After one query goes unanswered (no ticket worker), the rest are not tried:
        each would wait QUERY_TIMEOUT for the same answer."""
        if life.closed:
            return life.outcome.final_status if life.outcome else None
        if tally.queries_down is not None:
            raise _QueryFailed(tally.queries_down)
        handle = self._client.get_workflow_handle(execution.id, run_id=execution.run_id)
        try:
            state = await handle.query(
                STATE_QUERY, result_type=TicketState, rpc_timeout=QUERY_TIMEOUT
            )
        except (RPCError, WorkflowQueryFailedError, TimeoutError) as err:
            reason = str(err) or type(err).__name__
            if isinstance(err, RPCError | TimeoutError):
                tally.queries_down = reason
            raise _QueryFailed(reason) from err
        return str(state.status)

    async def _verify(
        self, status: str | None, life: TicketLife, row: rows.Row, tally: Tally
    ) -> None:
        """The row holds the workflow's status (set when not), and its advisor's slot."""
        reference = life.new.reference
        if status is None:
            if row.status in _ACTIVE:
                tally.refuse(
                    life,
                    f"its workflow ended without a result (terminated?) while the row is"
                    f" {row.status}: nothing will close it",
                )
            else:
                tally.consistent += 1
            return
        if status != row.status:
            await rows.set_status(self._engine, reference, row.status, status, _now())
            tally.statuses_set += 1
        if status in _BEING_SERVED and row.advisor_id is not None:
            problem = await rows.hold_for_advisor(self._engine, reference, row.advisor_id, _now())
            if problem is not None:
                tally.refuse(life, problem)
                return
        tally.consistent += 1


class _QueryFailed(Exception):
    """The running workflow did not answer its state query (no ticket worker?)."""


def _step(tally: Tally, since: datetime, started: datetime) -> Step:
    figures: dict[str, Any] = {
        "since": since.isoformat(),
        "workflows": tally.workflows,
        "not_created": tally.not_created,
        "rows_restored": tally.rows_restored,
        "events_restored": tally.events_restored,
        "statuses_set": tally.statuses_set,
        "pending_writes": tally.pending,
        "consistent": tally.consistent,
        "counters_moved": tally.counters_moved,
        "unreconciled": tally.unreconciled,
    }
    detail = (
        f"{tally.workflows} ticket workflows read: {tally.rows_restored} rows and"
        f" {tally.events_restored} events restored, {tally.statuses_set} statuses set,"
        f" {len(tally.counters_moved)} counters moved"
    )
    if tally.unreconciled:
        listed = "; ".join(
            f"{u['number'] or '?'} {u['workflow_id']}: {u['reason']}" for u in tally.unreconciled
        )
        detail += f"; NOT reconciled ({len(tally.unreconciled)}): {listed}"
    return Step(
        name="reconcile",
        outcome="alert" if tally.unreconciled else "ok",
        detail=detail[:4000],
        figures=figures,
        started_at=started,
        finished_at=_now(),
    )
