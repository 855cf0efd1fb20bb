"""The ticket path's contracts: what crosses Temporal boundaries, and the names it goes by.

Workflow inputs, update results and activity I/O are small pydantic models
(serialised by the pydantic data converter); no ORM objects and no personal data
in clear: the national id arrives keyed-hashed and masked, the phone masked.

Every workflow, update, signal, query and activity name is defined here once:
the decorator that registers it and every caller that cannot import the Python
object use the same constant. Pure data and names, no I/O: `db/`, `bridge/`,
`assignment/`, `activities/`, `workflows/` and `api/` may all import it.

Long because every name and payload that crosses Temporal is kept in this one place.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from domain.states import DeliveryOutcome

# --- Temporal names ----------------------------------------------------------------------
# The string values are on the wire and in the histories of running workflows: changing
# one breaks the executions already started under the old name.

# Workflow types.
TICKET_WORKFLOW = "TicketWorkflow"
NOTIFICATION_WORKFLOW = "NotificationWorkflow"

# The ticket workflow's updates, signals and query.
CREATE_UPDATE = "create"
TRANSITION_UPDATE = "transition"
NEAR_TURN_SIGNAL = "near_turn"
LINK_CHAT_SIGNAL = "link_chat"
#: Sent by whoever reserves a waiting ticket, before the reservation commits: the ticket's
#: workflow then times the CALL that must follow (a crash in between leaves it uncalled).
RESERVED_SIGNAL = "reserved"
STATE_QUERY = "state"

# The notification workflow's signal.
REPORT_DELIVERY_SIGNAL = "report_delivery"

# Activities: workflows call activities by name so they never import I/O code.
CREATE_TICKET = "create_ticket"
APPLY_TRANSITION = "apply_transition"
AFTER_CHANGE = "after_queue_change"
RECORD_CHAT_LINK = "link_chat"
ENQUEUE_NOTIFICATION = "enqueue_notification"
GIVE_UP_NOTIFICATION = "give_up_notification"

# Notification workflows' search attributes (workflows.search), set at start by activities.
SA_TICKET_REFERENCE = "TicketReference"
SA_MESSAGE_KIND = "MessageKind"

# Application error types the API maps to HTTP answers.
ERR_ACTIVE_TICKET_EXISTS = "ActiveTicketExists"
ERR_IDEMPOTENCY_MISMATCH = "IdempotencyKeyMismatch"


def ticket_workflow_id(reference: uuid.UUID) -> str:
    """One workflow per ticket, forever: the id is derived from the reference."""
    return f"ticket-{reference}"


def message_key(kind: str, sequence: int = 1) -> str:
    """The n-th message of a type to one ticket (a second YOUR_TURN after a transfer)."""
    return kind if sequence <= 1 else f"{kind}#{sequence}"


def notification_workflow_id(reference: uuid.UUID, kind: str, sequence: int = 1) -> str:
    """One workflow per ticket, message type and occurrence, so a duplicate cannot exist."""
    suffix = kind.lower() if sequence <= 1 else f"{kind.lower()}-{sequence}"
    return f"notification-{reference}-{suffix}"


class NewTicket(BaseModel):
    """A validated creation request, as the ticket workflow receives it."""

    reference: uuid.UUID
    branch_office: str
    queue: str
    national_id_hash: str
    national_id_masked: str
    phone_masked: str | None = None
    telegram_chat_id: int | None = None
    language: str = "es"
    fingerprint: str
    requested_at: datetime
    #: Set when the API persisted the ticket before starting its workflow (the default way
    #: since the `row_then_start` creation): the workflow begins from it, no `create` update,
    #: no local activity, no search-attribute upsert (the starter gave them).
    created: CreateOutcome | None = None


class WaitRange(BaseModel):
    minutes: int
    low: int
    high: int


class TicketView(BaseModel):
    """What a customer may see of a ticket (no national id)."""

    reference: uuid.UUID
    number: str
    queue: str
    branch_office: str
    status: str
    position: int | None
    tickets_ahead: int | None
    estimated_wait: WaitRange | None
    created_at: datetime
    expires_at: datetime
    telegram_chat_id: int | None = None
    desk: int | None = None
    called_at: datetime | None = None


class CreateOutcome(BaseModel):
    """Result of the create activity: the ticket, or the active ticket that blocks it."""

    ticket: TicketView | None = None
    conflicting: TicketView | None = None
    branch_id: int | None = None
    advisor_free: bool = False
    #: It also started the "created" message's workflow (a chat was given): no child for it.
    created_message_started: bool = False
    #: Given at start: the starter sends the `create` update with the start and waits for
    #: it, so the first one answers the creation itself (no repeated dispatch); later ones
    #: are retries. Inputs recorded before it was given (False) treat every one as a retry.
    create_follows: bool = False
    #: The reference existed already (a retry): nothing was written.
    replayed: bool = False
    #: ... and with another request's fingerprint (the API's check; the workflow compares
    #: fingerprints itself).
    fingerprint_mismatch: bool = False


NewTicket.model_rebuild()


class CreateResult(BaseModel):
    """Answer of the `create` update; `created` is false on an idempotent replay."""

    ticket: TicketView
    created: bool


class TicketOutcome(BaseModel):
    reference: uuid.UUID
    final_status: str


class NotificationRequest(BaseModel):
    """Start input of a notification workflow; `details` fill the template (desk, names)."""

    ticket_reference: uuid.UUID
    kind: str
    chat_id: int
    language: str = "es"
    details: dict[str, str] = Field(default_factory=dict)
    sequence: int = 1
    #: Which delivery attempt (0-based) enqueues it; the bridge reports it back, so a
    #: report of an earlier attempt is told apart. None: a workflow from before that.
    attempt: int | None = None


class EnqueuedNotification(BaseModel):
    message_id: uuid.UUID
    already_final: str | None = None


class DeliveryReport(BaseModel):
    """What the bridge reports back after each attempt."""

    message_id: uuid.UUID
    outcome: str = Field(pattern=f"^({'|'.join(DeliveryOutcome)})$")
    telegram_message_id: int | None = None
    error: str | None = None
    retry_after_seconds: float | None = None
    #: The attempt of the message reported on (OutboundTelegram.attempt); None: unknown.
    attempt: int | None = None


class NotificationOutcome(BaseModel):
    message_id: uuid.UUID
    state: str


class GiveUpRequest(BaseModel):
    message_id: uuid.UUID
    kind: str
    error: str


# --- lifecycle -------------------------------------------------------------------------

ERR_INVALID_TRANSITION = "InvalidTransition"
ERR_NOT_ALLOWED = "NotAllowed"
#: The ticket's row is gone from the read model (e.g. a restore from before it existed):
#: activities raise it as non-retryable; the workflow refuses the transition and lives on.
ERR_TICKET_GONE = "TicketGone"


class Transition(BaseModel):
    """A requested state change (update argument); the workflow validates it."""

    action: str
    actor: str
    reason: str | None = None
    advisor_id: int | None = None
    desk: int | None = None
    advisor_name: str | None = None
    target_queue: str | None = None
    # A CALL from a reservation names the queue it was reserved in: if the ticket has
    # been transferred since, the reservation is void and the CALL is refused.
    expected_queue: str | None = None


class TransitionRecord(BaseModel):
    """What the read model must record for one accepted transition (activity input)."""

    reference: uuid.UUID
    event_id: uuid.UUID
    at: datetime
    action: str
    from_status: str
    to_status: str
    actor: str
    reason: str | None = None
    advisor_id: int | None = None
    desk: int | None = None
    target_queue: str | None = None


class AppliedTransition(BaseModel):
    """Side facts of a recorded transition the workflow needs next."""

    branch_id: int
    branch_name: str = ""
    number: str = ""
    queue: str
    freed_advisor_id: int | None = None
    queues_changed: list[str] = Field(default_factory=list)
    no_show_seconds: int = 300


class TicketState(BaseModel):
    """The workflow's answer to a transition: the ticket as it now stands."""

    reference: uuid.UUID
    number: str
    queue: str
    status: str
    advisor_id: int | None = None
    desk: int | None = None
    recalls: int = 0


class QueueChange(BaseModel):
    """Input of the post-change activity: dispatch free advisors, refresh near-turn states."""

    branch_id: int
    queues: list[str]
    freed_advisor_id: int | None = None
    #: This ticket's reservation, if it is still uncalled, gets its CALL (again) first.
    reservation_of: uuid.UUID | None = None


class Reservation(BaseModel):
    """A waiting ticket was reserved for this advisor; their CALL should follow at once."""

    advisor_id: int


# --- notifications and chat linking ----------------------------------------------------

# Message types; each is sent at most once per ticket (its workflow id says so).
MSG_CREATED = "TICKET_CREATED"
MSG_TURN_NEAR = "TURN_NEAR"
MSG_YOUR_TURN = "YOUR_TURN"
MSG_RECALLED = "RECALLED"
MSG_CANCELLED = "CANCELLED"
MSG_NO_SHOW = "NO_SHOW"
#: The no-show after the one recall: the ticket is over.
MSG_NO_SHOW_FINAL = "NO_SHOW_FINAL"
MSG_TRANSFERRED = "TRANSFERRED"
#: The ticket was still open at the branch's closing time.
MSG_EXPIRED = "EXPIRED"
#: The customer must walk to a desk now: these go before every other message, in Temporal
#: (their workflows' task priority) and in RabbitMQ and the bridge (a queue of their own).
URGENT_MESSAGES = frozenset({MSG_YOUR_TURN, MSG_RECALLED})
#: Temporal's priority key of an urgent message's workflow and its activity (1 is first;
#: the server's default, 3, is every other task's): under load they pass the backlog of
#: creations and ordinary messages. Calls are paced by the desks: no starvation.
URGENT_PRIORITY_KEY = 1
MESSAGE_KINDS = (
    MSG_CREATED,
    MSG_TURN_NEAR,
    MSG_YOUR_TURN,
    MSG_RECALLED,
    MSG_CANCELLED,
    MSG_NO_SHOW,
    MSG_NO_SHOW_FINAL,
    MSG_TRANSFERRED,
    MSG_EXPIRED,
)


class LinkChat(BaseModel):
    """A customer pressed Start on the ticket's deep link in this chat."""

    chat_id: int
    language: str | None = None


class LinkRecord(BaseModel):
    reference: uuid.UUID
    chat_id: int
    event_id: uuid.UUID
    at: datetime
    language: str | None = None
