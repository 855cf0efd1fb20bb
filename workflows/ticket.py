"""The life of one ticket, from creation to a final state, as one workflow execution.

The workflow is the state machine (domain.states); every accepted transition
is recorded in the read model by an idempotent activity. Timers drive what
nobody asks for: the no-show after CALLED and the end of the business day.

Long on purpose: the entity workflow is the state machine, and its handlers share one lock and
one state; splitting it would spread the determinism rules over several files.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import (
    Priority,
    RetryPolicy,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from domain.contracts import (
        AFTER_CHANGE,
        APPLY_TRANSITION,
        CREATE_TICKET,
        CREATE_UPDATE,
        ERR_ACTIVE_TICKET_EXISTS,
        ERR_IDEMPOTENCY_MISMATCH,
        ERR_INVALID_TRANSITION,
        ERR_NOT_ALLOWED,
        ERR_TICKET_GONE,
        LINK_CHAT_SIGNAL,
        MSG_CANCELLED,
        MSG_CREATED,
        MSG_EXPIRED,
        MSG_NO_SHOW,
        MSG_NO_SHOW_FINAL,
        MSG_RECALLED,
        MSG_TRANSFERRED,
        MSG_TURN_NEAR,
        MSG_YOUR_TURN,
        NEAR_TURN_SIGNAL,
        RECORD_CHAT_LINK,
        RESERVED_SIGNAL,
        STATE_QUERY,
        TICKET_WORKFLOW,
        TRANSITION_UPDATE,
        URGENT_MESSAGES,
        URGENT_PRIORITY_KEY,
        AppliedTransition,
        CreateOutcome,
        CreateResult,
        LinkChat,
        LinkRecord,
        NewTicket,
        NotificationRequest,
        QueueChange,
        Reservation,
        TicketOutcome,
        TicketState,
        TicketView,
        Transition,
        TransitionRecord,
        notification_workflow_id,
    )
    from domain.queues import QueueName
    from domain.states import (
        ACTIVE_STATUSES,
        FINAL_STATUSES,
        WAITING_STATUSES,
        InvalidTransition,
        TicketAction,
        TicketStatus,
        next_status,
    )
    from workflows import search
    from workflows.notification import NotificationWorkflow

#: An urgent message's task priority (domain.contracts). Priority is not part of what a
#: replay compares, so histories from before it replay unchanged (test_replay).
_URGENT_PRIORITY = Priority(priority_key=URGENT_PRIORITY_KEY)

#: Patch id: a link request from a second chat is refused (histories before it moved chats).
KEEP_FIRST_CHAT = "link-keeps-first-chat"
#: Patch id: a failed record (row gone, retries spent) rolls the transition back and the
#: workflow lives on; failed follow-ups (AFTER_CHANGE, chat link) are dropped, not fatal.
RECORD_MAY_FAIL = "record-may-fail"
#: Patch id: AFTER_CHANGE runs beside the main loop, which keeps watching its deadlines.
AFTER_CHANGE_BESIDE = "after-change-beside-loop"
#: Patch id: a ticket whose creation never completed expires the row it may have left.
EXPIRE_ORPHAN_ROW = "expire-orphan-row"
#: Patch id: the no-show after the recall and the day-end expiry send their own message.
FINAL_MESSAGES = "final-no-show-and-expiry-messages"
#: Patch id: a /start from the chat already linked saves that chat's language.
RELINK_LANGUAGE = "relink-saves-chat-language"
#: Patch id: a reservation announced to this ticket gets its own timer: a CALL that has not
#: landed by then (the reserving process died) is sent again, not left to the next dispatch.
RESERVATION_TIMER = "reservation-timer"
#: Patch id: a replayed creation of a waiting ticket dispatches its queue (and its
#: reservation's CALL, if one is stranded) again.
REPLAYED_CREATION_DISPATCHES = "replayed-creation-dispatches"
#: Patch id: the create activity starts the "created" message itself (no child for it).
CREATED_MESSAGE_BY_CREATE = "created-message-started-by-create"
#: Patch id: a message's child starts with its search attributes (the child upserts none),
#: and a child found started already (by the create activity) is taken as sent.
CHILD_SEARCH_ATTRIBUTES = "notification-child-search-attributes"
#: How long a reserved ticket waits for its CALL before having it sent again. It normally
#: lands within milliseconds; sent twice, it is one update (same id), answered twice.
RESERVATION_GRACE = timedelta(seconds=5)
#: A start whose `create` update never arrives (it always does with update-with-start) ends.
CREATE_DEADLINE = timedelta(minutes=5)
#: Bounded (about 1.5 minutes of attempts); a missing row fails at once. Never unbounded:
#: `_apply` holds the handler lock while it waits, and every later update would wait too.
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=20,
    non_retryable_error_types=[ERR_TICKET_GONE],
)
#: What an update caller gets when its transition could not be recorded (nothing changed).
ERR_NOT_RECORDED = "TransitionNotRecorded"
# The customer message each transition produces (when a chat is linked).
_MESSAGE_FOR = {
    TicketAction.NOTIFY: MSG_TURN_NEAR,
    TicketAction.CALL: MSG_YOUR_TURN,
    TicketAction.RECALL: MSG_RECALLED,
    TicketAction.CANCEL: MSG_CANCELLED,
    TicketAction.NO_SHOW: MSG_NO_SHOW,
    TicketAction.TRANSFER: MSG_TRANSFERRED,
}
# Behind FINAL_MESSAGES: the last no-show (after the recall) and the day-end expiry.
_FINAL_MESSAGE_FOR = {
    TicketAction.NO_SHOW: MSG_NO_SHOW_FINAL,
    TicketAction.EXPIRE: MSG_EXPIRED,
}
# Messages that may go out again in one ticket's life (after a transfer, a new call).
_REPEATABLE = {MSG_YOUR_TURN, MSG_TURN_NEAR, MSG_TRANSFERRED}
# Transitions only the advisor holding the ticket may ask for.
_HOLDER_ONLY = {
    TicketAction.START,
    TicketAction.COMPLETE,
    TicketAction.NO_SHOW,
    TicketAction.REQUEUE,
}


@workflow.defn(name=TICKET_WORKFLOW)
class TicketWorkflow:
    """Entity workflow: the durable state machine; the database is its read model."""

    @workflow.init
    def __init__(self, new: NewTicket) -> None:
        self._new = new
        self._ticket: TicketView | None = None
        self._rejected = False
        self._status: TicketStatus | None = None
        self._queue = new.queue
        self._advisor_id: int | None = None
        self._desk: int | None = None
        self._recalls = 0
        self._called_at: datetime | None = None
        self._no_show_seconds = 300
        self._effects: list[QueueChange] = []
        self._chat_id: int | None = new.telegram_chat_id
        self._language = new.language
        self._outbox: list[tuple[str, dict[str, str]]] = []
        self._sent: dict[str, int] = {}
        self._link_requests: list[LinkChat] = []
        self._near_turn = False
        self._version = 0
        self._branch_id: int | None = None
        #: When an announced reservation's CALL is overdue (behind RESERVATION_TIMER).
        self._reservation_due: datetime | None = None
        self._lock = asyncio.Lock()
        self._beside: set[asyncio.Future[int]] = set()
        #: The API's own `create` update, sent with the start, is still to come.
        self._creation_unanswered = bool(new.created and new.created.create_follows)
        if new.created is not None and new.created.ticket is not None:
            # The API persisted it before starting us: begin from its row. Set here, before
            # any handler runs, so a `create` update (a retry) is answered from it.
            self._adopt(new.created)

    # -- main loop -------------------------------------------------------------------

    @workflow.run
    async def run(self, new: NewTicket) -> TicketOutcome:
        adopted = self._ticket is not None  # started with its row (no timer, no upsert)
        try:
            if not adopted:
                await workflow.wait_condition(
                    lambda: self._ticket is not None or self._rejected, timeout=CREATE_DEADLINE
                )
        except TimeoutError:
            if workflow.patched(EXPIRE_ORPHAN_ROW):
                await self._expire_orphan_row()
            return TicketOutcome(reference=new.reference, final_status="NOT_CREATED")
        if self._ticket is None:
            workflow.upsert_search_attributes([search.TICKET_STATUS.value_set("REJECTED")])
            await workflow.wait_condition(workflow.all_handlers_finished)
            return TicketOutcome(reference=new.reference, final_status="REJECTED")
        ticket = self._ticket
        if not adopted:
            workflow.upsert_search_attributes(
                [
                    search.TICKET_NUMBER.value_set(ticket.number),
                    search.TICKET_STATUS.value_set(ticket.status),
                ]
            )
        if self._chat_id is not None and MSG_CREATED not in self._sent:
            self._outbox.append((MSG_CREATED, {}))
        await self._live(ticket.expires_at)
        if self._beside:
            await workflow.wait(list(self._beside))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return TicketOutcome(reference=new.reference, final_status=str(self._status))

    async def _live(self, expires_at: datetime) -> None:
        """React to effects and deadlines until the ticket is final."""
        while True:
            if self._outbox:
                kind, details = self._outbox.pop(0)
                await self._notify(kind, details)
                continue
            if self._link_requests:
                await self._link(self._link_requests.pop(0))
                continue
            if self._effects:
                await self._after_change(self._effects.pop(0))
                continue
            if self._near_turn:
                self._near_turn = False
                await self._internal(TicketAction.NOTIFY, "position within the near-turn threshold")
                continue
            if self._lock.locked():
                # A transition is being recorded; its effects are queued when it ends.
                await workflow.wait_condition(
                    lambda: (
                        not self._lock.locked()
                        or bool(self._effects or self._outbox or self._link_requests)
                        or self._near_turn
                    )
                )
                continue
            if self._status in FINAL_STATUSES or (
                self._status is TicketStatus.NO_SHOW and self._recalls >= 1
            ):
                return
            now = workflow.now()
            if self._reservation_due is not None and now >= self._reservation_due:
                self._reservation_due = None
                await self._recall_reservation()
                continue
            deadline = self._no_show_at() or expires_at
            deadline = min(deadline, expires_at)
            if now >= deadline:
                if now >= expires_at:
                    if self._status in ACTIVE_STATUSES:
                        await self._internal(TicketAction.EXPIRE, "end of business day")
                        continue
                    return  # a no-show nobody recalled: nothing left to wait for
                await self._internal(TicketAction.NO_SHOW, "customer did not come to the desk")
                continue
            if self._reservation_due is not None:
                deadline = min(deadline, self._reservation_due)
            await self._wait_for_change(deadline - now)

    async def _after_change(self, change: QueueChange) -> None:
        """Let the branch react (dispatch, near-turn signals). It sends updates to other
        tickets: beside the loop, so this ticket's no-show and day-end timers still fire."""
        options: dict[str, object] = {
            "result_type": int,
            "start_to_close_timeout": timedelta(seconds=60),
            "heartbeat_timeout": timedelta(seconds=20),
            "retry_policy": DB_RETRY,
        }
        if workflow.patched(AFTER_CHANGE_BESIDE):
            running = workflow.start_activity(AFTER_CHANGE, change, **options)  # type: ignore[call-overload]
            self._beside.add(running)
            running.add_done_callback(self._after_change_done)
            return
        try:
            await workflow.execute_activity(AFTER_CHANGE, change, **options)  # type: ignore[call-overload]
        except ActivityError:
            if not workflow.patched(RECORD_MAY_FAIL):
                raise
            workflow.logger.warning("after-change of %s gave up", self._new.reference)

    async def _recall_reservation(self) -> None:
        """The reservation's CALL never came: have it sent (the branch dispatches too)."""
        if self._status in WAITING_STATUSES and self._branch_id is not None:
            await self._after_change(self._dispatch_again())

    def _dispatch_again(self) -> QueueChange:
        assert self._branch_id is not None
        return QueueChange(
            branch_id=self._branch_id, queues=[self._queue], reservation_of=self._new.reference
        )

    def _after_change_done(self, running: asyncio.Future[int]) -> None:
        self._beside.discard(running)
        if not running.cancelled() and running.exception() is not None:
            # Dispatch is also driven by every other change and by call-next: not fatal.
            workflow.logger.warning("after-change of %s gave up", self._new.reference)

    async def _expire_orphan_row(self) -> None:
        """The create update failed after its local activity may have committed the row: a
        WAITING row with no workflow would block this person at the branch. Expire it."""
        now = workflow.now()
        with contextlib.suppress(ActivityError):  # no row (TicketGone): nothing to undo
            await workflow.execute_activity(
                APPLY_TRANSITION,
                TransitionRecord(
                    reference=self._new.reference,
                    event_id=workflow.uuid4(),
                    at=now,
                    action=TicketAction.EXPIRE.value,
                    from_status=TicketStatus.WAITING.value,
                    to_status=TicketStatus.EXPIRED.value,
                    actor="system",
                    reason="creation never completed",
                ),
                result_type=AppliedTransition,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )

    async def _wait_for_change(self, limit: timedelta) -> None:
        seen = self._version
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: (
                    bool(self._effects or self._outbox or self._link_requests)
                    or self._near_turn
                    or self._version != seen
                ),
                timeout=limit,
            )

    def _no_show_at(self) -> datetime | None:
        if self._status is TicketStatus.CALLED and self._called_at is not None:
            return self._called_at + timedelta(seconds=self._no_show_seconds)
        return None

    async def _internal(self, action: TicketAction, reason: str) -> None:
        """A transition the workflow itself decides (timers, positions); skipped if stale."""
        async with self._lock:
            try:
                self._check(Transition(action=action.value, actor="system"))
            except ApplicationError:
                return
            try:
                await self._apply(Transition(action=action.value, actor="system", reason=reason))
            except ApplicationError:
                if action in (TicketAction.EXPIRE, TicketAction.NO_SHOW):
                    # The clock decided; with no row to record it on, the decision stands
                    # (else the loop would try again at once, forever).
                    assert self._status is not None
                    self._status = next_status(self._status, action, self._recalls)
                    self._version += 1

    # -- creation ----------------------------------------------------------------------

    @workflow.update(name=CREATE_UPDATE)
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
                if self._creation_unanswered:
                    # The update sent with our start by the API that wrote the row.
                    self._creation_unanswered = False
                    return CreateResult(ticket=self._ticket, created=True)
                if (
                    self._status in WAITING_STATUSES
                    and self._branch_id is not None
                    and workflow.patched(REPLAYED_CREATION_DISPATCHES)
                ):
                    # A client retrying after a crash: whatever dispatch was lost, redo it.
                    self._effects.append(self._dispatch_again())
                return CreateResult(ticket=self._ticket, created=False)
            if self._rejected:
                raise ApplicationError(
                    "an active ticket already exists for this person at this branch",
                    type=ERR_ACTIVE_TICKET_EXISTS,
                    non_retryable=True,
                )
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
            if outcome.fingerprint_mismatch:  # its row came from another request's body
                raise ApplicationError(
                    "Idempotency-Key was already used with a different request",
                    type=ERR_IDEMPOTENCY_MISMATCH,
                    non_retryable=True,
                )
            created_message = outcome.created_message_started and workflow.patched(
                CREATED_MESSAGE_BY_CREATE
            )
            self._adopt(outcome.model_copy(update={"created_message_started": created_message}))
            assert outcome.ticket is not None
            # A row found already (its API wrote it, or an earlier attempt did): a replay.
            return CreateResult(ticket=outcome.ticket, created=not outcome.replayed)

    def _adopt(self, outcome: CreateOutcome) -> None:
        """Take the persisted ticket as this workflow's state (no commands: safe in init)."""
        assert outcome.ticket is not None
        self._ticket = outcome.ticket
        self._status = TicketStatus(outcome.ticket.status)
        if outcome.created_message_started:
            self._sent[MSG_CREATED] = 1  # its workflow runs: the main loop skips it
        self._branch_id = outcome.branch_id
        if outcome.advisor_free and outcome.branch_id is not None:
            self._effects.append(QueueChange(branch_id=outcome.branch_id, queues=[self._queue]))

    # -- transitions ---------------------------------------------------------------------

    @workflow.update(name=TRANSITION_UPDATE)
    async def transition(self, request: Transition) -> TicketState:
        async with self._lock:
            if self._repeated_call(request):
                return self.state()
            self._check(request)  # again: an earlier update may have moved the ticket on
            await self._apply(request)
            return self.state()

    def _repeated_call(self, request: Transition) -> bool:
        """A CALL resent for a reservation already called by the same advisor is a no-op."""
        return (
            request.action == TicketAction.CALL
            and self._status is TicketStatus.CALLED
            and request.advisor_id is not None
            and request.advisor_id == self._advisor_id
        )

    @transition.validator
    def _validate(self, request: Transition) -> None:
        if not self._repeated_call(request):
            self._check(request)

    @workflow.signal(name=NEAR_TURN_SIGNAL)
    def near_turn(self) -> None:
        self._near_turn = True

    @workflow.signal(name=RESERVED_SIGNAL)
    def reserved(self, reservation: Reservation) -> None:
        """A dispatcher reserved this ticket for an advisor; their CALL should follow."""
        if self._status not in WAITING_STATUSES or not workflow.patched(RESERVATION_TIMER):
            return
        self._reservation_due = workflow.now() + RESERVATION_GRACE
        self._version += 1  # the loop's wait shortens to the new deadline

    @workflow.signal(name=LINK_CHAT_SIGNAL)
    def link_chat(self, request: LinkChat) -> None:
        self._link_requests.append(request)

    @workflow.query(name=STATE_QUERY)
    def state(self) -> TicketState:
        return TicketState(
            reference=self._new.reference,
            number=self._ticket.number if self._ticket else "",
            queue=self._queue,
            status=str(self._status) if self._status else "NEW",
            advisor_id=self._advisor_id,
            desk=self._desk,
            recalls=self._recalls,
        )

    def _check(self, request: Transition) -> None:
        """Refuse, without touching history, what the state machine or the actor forbids."""
        if self._status is None:
            raise ApplicationError("the ticket does not exist yet", type=ERR_INVALID_TRANSITION)
        try:
            action = TicketAction(request.action)
            next_status(self._status, action, self._recalls)
        except ValueError as err:
            raise ApplicationError(
                str(err), str(self._status), type=ERR_INVALID_TRANSITION, non_retryable=True
            ) from None
        except InvalidTransition as err:
            raise ApplicationError(
                str(err), str(self._status), type=ERR_INVALID_TRANSITION, non_retryable=True
            ) from None
        if action in (TicketAction.CALL, TicketAction.RECALL) and request.advisor_id is None:
            raise ApplicationError("a call needs an advisor", type=ERR_NOT_ALLOWED)
        if request.expected_queue is not None and request.expected_queue != self._queue:
            raise ApplicationError(
                "the ticket moved to another queue after it was reserved", type=ERR_NOT_ALLOWED
            )
        system = request.actor == "system"
        holder = request.advisor_id is not None and request.advisor_id == self._advisor_id
        if action in _HOLDER_ONLY and not (system or holder):
            raise ApplicationError(
                "only the advisor who called this ticket can do that", type=ERR_NOT_ALLOWED
            )
        if action is TicketAction.RECALL and self._status is TicketStatus.CALLED and not holder:
            raise ApplicationError(
                "only the advisor who called this ticket can do that", type=ERR_NOT_ALLOWED
            )
        if action is TicketAction.TRANSFER:
            if request.target_queue not in {q.value for q in QueueName}:
                raise ApplicationError("transfer needs a valid target queue", type=ERR_NOT_ALLOWED)
            if request.target_queue == self._queue:
                raise ApplicationError("the ticket is already in that queue", type=ERR_NOT_ALLOWED)
            supervisor = request.actor.startswith("supervisor:")
            if self._status is TicketStatus.CALLED and not (holder or supervisor):
                raise ApplicationError(
                    "only the advisor who called this ticket can transfer it",
                    type=ERR_NOT_ALLOWED,
                )

    async def _apply(self, request: Transition) -> None:
        """Decide, then record. The new state is visible at once (validators of updates
        arriving meanwhile see it); the read model follows, retried until written."""
        assert self._status is not None
        action = TicketAction(request.action)
        before = self._status
        undo = (self._status, self._advisor_id, self._desk, self._called_at, self._recalls)
        undo_queue = self._queue
        after = next_status(before, action, self._recalls)
        now = workflow.now()
        self._status = after
        if action in (TicketAction.CALL, TicketAction.RECALL):
            self._advisor_id = request.advisor_id
            self._desk = request.desk if request.desk is not None else self._desk
            self._called_at = now
            if before is TicketStatus.NO_SHOW:
                self._recalls += 1
        elif action is TicketAction.TRANSFER and request.target_queue:
            self._queue = request.target_queue
        try:
            applied = await self._record(request, action, before, after, now)
        except ActivityError as err:
            if not workflow.patched(RECORD_MAY_FAIL):
                raise
            # Nothing happened: back to the state before, and the caller is told why.
            self._status, self._advisor_id, self._desk, self._called_at, self._recalls = undo
            self._queue = undo_queue
            cause = err.cause
            gone = isinstance(cause, ApplicationError) and cause.type == ERR_TICKET_GONE
            raise ApplicationError(
                "the ticket has no record any more (restored from before it existed)"
                if gone
                else "the transition could not be recorded; try again",
                str(before),
                type=ERR_TICKET_GONE if gone else ERR_NOT_RECORDED,
                non_retryable=True,
            ) from None
        self._queue = applied.queue
        self._branch_id = applied.branch_id
        self._no_show_seconds = applied.no_show_seconds
        if action is TicketAction.CALL:
            self._reservation_due = None  # the reservation's CALL landed
        if applied.freed_advisor_id is not None or action is TicketAction.TRANSFER:
            self._advisor_id, self._desk, self._called_at = None, None, None
        updates = [search.TICKET_STATUS.value_set(after.value)]
        if action is TicketAction.TRANSFER:
            updates.append(search.QUEUE_NAME.value_set(applied.queue))
        workflow.upsert_search_attributes(updates)
        kind = self._message_for(action)
        if kind is not None:
            self._outbox.append((kind, self._details(action, request, applied.queue)))
        if applied.queues_changed or applied.freed_advisor_id is not None:
            self._effects.append(
                QueueChange(
                    branch_id=applied.branch_id,
                    queues=applied.queues_changed or [applied.queue],
                    freed_advisor_id=applied.freed_advisor_id,
                )
            )
        self._version += 1

    async def _record(
        self,
        request: Transition,
        action: TicketAction,
        before: TicketStatus,
        after: TicketStatus,
        now: datetime,
    ) -> AppliedTransition:
        applied: AppliedTransition = await workflow.execute_activity(
            APPLY_TRANSITION,
            TransitionRecord(
                reference=self._new.reference,
                event_id=workflow.uuid4(),
                at=now,
                action=action.value,
                from_status=before.value,
                to_status=after.value,
                actor=request.actor,
                reason=request.reason,
                advisor_id=request.advisor_id,
                desk=request.desk,
                target_queue=request.target_queue,
            ),
            result_type=AppliedTransition,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
        return applied

    # -- notifications ---------------------------------------------------------------------

    def _message_for(self, action: TicketAction) -> str | None:
        """The message a transition sends; the no-show after a recall ends the ticket and
        says so, as does the day-end expiry (histories before the patch sent neither)."""
        final = action is TicketAction.EXPIRE or (
            action is TicketAction.NO_SHOW and self._recalls >= 1
        )
        if final and self._chat_id is not None and workflow.patched(FINAL_MESSAGES):
            return _FINAL_MESSAGE_FOR[action]
        return _MESSAGE_FOR.get(action)

    @staticmethod
    def _details(action: TicketAction, request: Transition, queue: str) -> dict[str, str]:
        details: dict[str, str] = {}
        if request.desk is not None:
            details["desk"] = str(request.desk)
        if request.advisor_name:
            details["advisor"] = request.advisor_name.split()[0]
        if action is TicketAction.TRANSFER:
            details["queue"] = queue
        return details

    async def _notify(self, kind: str, details: dict[str, str]) -> None:
        """Start the message's own workflow (once per type); it outlives this one if need be."""
        if self._chat_id is None:
            return
        sequence = self._sent.get(kind, 0) + 1
        if sequence > 1 and kind not in _REPEATABLE:
            return
        self._sent[kind] = sequence
        patched = workflow.patched(CHILD_SEARCH_ATTRIBUTES)
        attributes = None
        if patched:
            attributes = TypedSearchAttributes(
                [
                    SearchAttributePair(search.TICKET_REFERENCE, str(self._new.reference)),
                    SearchAttributePair(search.MESSAGE_KIND, kind),
                ]
            )
        try:
            await workflow.start_child_workflow(
                NotificationWorkflow.run,
                NotificationRequest(
                    ticket_reference=self._new.reference,
                    kind=kind,
                    chat_id=self._chat_id,
                    language=self._language,
                    details=details,
                    sequence=sequence,
                ),
                id=notification_workflow_id(self._new.reference, kind, sequence),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=attributes,
                # A call waits behind no backlog (its activity inherits this).
                priority=_URGENT_PRIORITY if kind in URGENT_MESSAGES else Priority.default,
            )
        except WorkflowAlreadyStartedError:
            if not patched:
                raise
            # The create activity started it after all (its answer was lost): sent once.
            workflow.logger.info("the %s message of %s runs already", kind, self._new.reference)

    async def _link(self, request: LinkChat) -> None:
        """Remember the customer's chat; the first link sends the "ticket created" message.
        A ticket followed from one chat is never moved to another (no silent takeover)."""
        if self._status not in ACTIVE_STATUSES:
            return
        if request.chat_id == self._chat_id:
            await self._relink(request)
            return
        if self._chat_id is not None and workflow.patched(KEEP_FIRST_CHAT):
            return
        try:
            await self._record_link(request)
        except ActivityError:
            if not workflow.patched(RECORD_MAY_FAIL):
                raise
            return  # no row to link: the ticket's messages keep going where they went
        self._chat_id = request.chat_id
        if request.language in ("es", "en"):
            self._language = request.language
        self._outbox.append((MSG_CREATED, {}))

    async def _relink(self, request: LinkChat) -> None:
        """/start again from the linked chat (e.g. the one given at creation) in another
        language: the chat's language is saved and every later message uses it."""
        language = request.language
        if language not in ("es", "en") or language == self._language:
            return
        if not workflow.patched(RELINK_LANGUAGE):
            return
        try:
            await self._record_link(request)
        except ActivityError:
            return  # no row: the messages keep their language
        self._language = language

    async def _record_link(self, request: LinkChat) -> None:
        await workflow.execute_activity(
            RECORD_CHAT_LINK,
            LinkRecord(
                reference=self._new.reference,
                chat_id=request.chat_id,
                event_id=workflow.uuid4(),
                at=workflow.now(),
                language=request.language if request.language in ("es", "en") else None,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
