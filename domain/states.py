"""The states stored in the database, and the ticket life cycle's rules.

Workflows, API handlers and the audit trail all go through `next_status`, so
an impossible transition (completing a ticket nobody called, cancelling one
already being served) is rejected in one place, with the same message.

The enum values are exactly what the `ticket.status`, `advisor.status` and
`mensaje.state` columns hold; SQL builds its status lists from these enums and
sets (db/sql.py), never from literals.
"""

from enum import StrEnum

__all__ = [
    "ACTIVE_STATUSES",
    "BEING_SERVED_STATUSES",
    "FINAL_MESSAGE_STATES",
    "FINAL_STATUSES",
    "SERVING_ADVISOR_STATUSES",
    "TERMINAL_STATUSES",
    "WAITING_STATUSES",
    "AdvisorStatus",
    "DeliveryOutcome",
    "InvalidTransition",
    "MessageState",
    "TicketAction",
    "TicketStatus",
    "allowed_actions",
    "next_status",
]


class TicketStatus(StrEnum):
    """Where a ticket is in its life cycle."""

    WAITING = "WAITING"
    NOTIFIED = "NOTIFIED"
    CALLED = "CALLED"
    IN_SERVICE = "IN_SERVICE"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    NO_SHOW = "NO_SHOW"
    EXPIRED = "EXPIRED"


class TicketAction(StrEnum):
    """Something that happens to a ticket, by a person or a timer."""

    NOTIFY = "NOTIFY"
    CALL = "CALL"
    START = "START"
    COMPLETE = "COMPLETE"
    CANCEL = "CANCEL"
    NO_SHOW = "NO_SHOW"
    RECALL = "RECALL"
    TRANSFER = "TRANSFER"
    EXPIRE = "EXPIRE"
    #: A called ticket goes back to its line (same queue, same arrival time): its advisor
    #: recalls their own no-show instead.
    REQUEUE = "REQUEUE"


#: A customer holding one of these has a ticket in progress; only one is
#: allowed per national id and branch.
ACTIVE_STATUSES: frozenset[TicketStatus] = frozenset(
    {
        TicketStatus.WAITING,
        TicketStatus.NOTIFIED,
        TicketStatus.CALLED,
        TicketStatus.IN_SERVICE,
    }
)
#: Tickets still in the line; positions are counted among these.
WAITING_STATUSES: frozenset[TicketStatus] = frozenset({TicketStatus.WAITING, TicketStatus.NOTIFIED})
#: Called and not yet finished: at a desk, or on the way to it.
BEING_SERVED_STATUSES: frozenset[TicketStatus] = ACTIVE_STATUSES - WAITING_STATUSES
#: Finished tickets. NO_SHOW is the one exception that may be reopened, by a
#: single RECALL.
TERMINAL_STATUSES: frozenset[TicketStatus] = frozenset(TicketStatus) - ACTIVE_STATUSES
#: Finished for good: no action of any kind moves a ticket out of these.
FINAL_STATUSES: frozenset[TicketStatus] = TERMINAL_STATUSES - {TicketStatus.NO_SHOW}

_S = TicketStatus
_A = TicketAction
_TRANSITIONS: dict[tuple[TicketStatus, TicketAction], TicketStatus] = {
    (_S.WAITING, _A.NOTIFY): _S.NOTIFIED,
    (_S.WAITING, _A.CALL): _S.CALLED,
    (_S.NOTIFIED, _A.CALL): _S.CALLED,
    (_S.CALLED, _A.START): _S.IN_SERVICE,
    (_S.IN_SERVICE, _A.COMPLETE): _S.COMPLETED,
    (_S.WAITING, _A.CANCEL): _S.CANCELLED,
    (_S.NOTIFIED, _A.CANCEL): _S.CANCELLED,
    (_S.CALLED, _A.NO_SHOW): _S.NO_SHOW,
    (_S.CALLED, _A.RECALL): _S.CALLED,
    (_S.WAITING, _A.TRANSFER): _S.WAITING,
    (_S.NOTIFIED, _A.TRANSFER): _S.WAITING,
    (_S.CALLED, _A.TRANSFER): _S.WAITING,
    (_S.CALLED, _A.REQUEUE): _S.WAITING,
    **{(status, _A.EXPIRE): _S.EXPIRED for status in ACTIVE_STATUSES},
}
#: A customer who missed the call may be called back once, no more.
_MAX_NO_SHOW_RECALLS = 1


class InvalidTransition(Exception):
    """An action that the ticket's current state does not allow."""

    def __init__(self, current: TicketStatus, action: TicketAction, reason: str = "") -> None:
        self.current = current
        self.action = action
        message = f"cannot {action.value} a ticket that is {current.value}"
        super().__init__(f"{message}: {reason}" if reason else message)


def next_status(current: TicketStatus, action: TicketAction, recalls: int = 0) -> TicketStatus:
    """Return the state a ticket moves to, or raise `InvalidTransition`.

    `recalls` is how many times the ticket has already been recalled from
    NO_SHOW; re-announcing a CALLED ticket is always allowed and is not
    limited by it.
    """
    if recalls < 0:
        raise ValueError("recalls must not be negative")
    if current is TicketStatus.NO_SHOW and action is TicketAction.RECALL:
        if recalls < _MAX_NO_SHOW_RECALLS:
            return TicketStatus.CALLED
        raise InvalidTransition(current, action, "a no-show can be recalled only once")
    try:
        return _TRANSITIONS[current, action]
    except KeyError:
        raise InvalidTransition(current, action) from None


def allowed_actions(current: TicketStatus, recalls: int = 0) -> frozenset[TicketAction]:
    """Return the actions `next_status` accepts in `current` (for UIs and checks)."""
    allowed: set[TicketAction] = set()
    for action in TicketAction:
        try:
            next_status(current, action, recalls)
        except InvalidTransition:
            continue
        allowed.add(action)
    return frozenset(allowed)


class AdvisorStatus(StrEnum):
    """Where an advisor is (`advisor.status`); BUSY while holding a ticket."""

    AVAILABLE = "AVAILABLE"
    BUSY = "BUSY"
    BREAK = "BREAK"
    OFFLINE = "OFFLINE"


#: Advisors who count as serving capacity: at the desk, free or with a customer.
SERVING_ADVISOR_STATUSES: frozenset[AdvisorStatus] = frozenset(
    {AdvisorStatus.AVAILABLE, AdvisorStatus.BUSY}
)


class MessageState(StrEnum):
    """A customer message (`mensaje.state`): PENDING, then SENT or FAILED, once."""

    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


#: A message in one of these is never sent again.
FINAL_MESSAGE_STATES: frozenset[MessageState] = frozenset({MessageState.SENT, MessageState.FAILED})


class DeliveryOutcome(StrEnum):
    """What the bridge reports after one delivery attempt: a final state, or RETRY."""

    SENT = MessageState.SENT.value
    RETRY = "RETRY"
    FAILED = MessageState.FAILED.value
