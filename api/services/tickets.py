"""Ticket creation and lookup: creation persists the ticket and starts its workflow, reads
hit the DB.

Long because the three creation modes (`TEMPORAL_CREATE_MODE`) share one entry point and
one mapping of Temporal's and the database's refusals to answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from api.resources import Resources
from api.schemas.tickets import CreateTicketRequest, TicketResponse
from api.services import adoption
from api.services.identity import national_id_hash
from db import tickets as store
from domain import references
from domain.contracts import (
    ERR_ACTIVE_TICKET_EXISTS,
    ERR_IDEMPOTENCY_MISMATCH,
    TICKET_WORKFLOW,
    CreateResult,
    NewTicket,
    TicketView,
    ticket_workflow_id,
)
from domain.national_id import mask_national_id, mask_phone
from domain.states import ACTIVE_STATUSES, TicketStatus
from messaging.live import created_event, ticket_event_routing_key
from workflows.ticket import TicketWorkflow

log = logging.getLogger("ticketero.api.tickets")
#: Past this the caller gets 503 with Retry-After; a retry with the same Idempotency-Key
#: gets the ticket the first attempt made, if it made one.
CREATE_TIMEOUT_SECONDS = 8.0
CREATE = adoption.CREATE


@dataclass(frozen=True)
class Created:
    ticket: TicketView
    created: bool


def reference_for(idempotency_key: str | None, secret: str) -> uuid.UUID:
    """A retried request with the same key names the same ticket (and workflow); the
    reference stays a 128-bit secret (see domain.references)."""
    return references.reference_for(idempotency_key, secret)


def validate_idempotency_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    key = raw.strip()
    if not 1 <= len(key) <= 128 or not key.isprintable():
        raise ApiError(400, "idempotency.bad_key", field="Idempotency-Key")
    return key


def build_new_ticket(req: CreateTicketRequest, reference: uuid.UUID, key: str) -> NewTicket:
    hashed = national_id_hash(req.national_id, key)
    fingerprint = hashlib.sha256(
        json.dumps(
            [
                hashed,
                req.branch_office.lower(),
                req.queue.value,
                req.phone,
                req.telegram_chat_id,
                req.language,
            ]
        ).encode()
    ).hexdigest()
    return NewTicket(
        reference=reference,
        branch_office=req.branch_office,
        queue=req.queue.value,
        national_id_hash=hashed,
        national_id_masked=mask_national_id(req.national_id.value),
        phone_masked=mask_phone(req.phone) if req.phone else None,
        telegram_chat_id=req.telegram_chat_id,
        language=req.language,
        fingerprint=fingerprint,
        requested_at=datetime.now(UTC),
    )


async def create_ticket(
    res: Resources, req: CreateTicketRequest, idempotency_key: str | None
) -> Created:
    """Update-with-start on the ticket's workflow; maps business refusals to 409/422."""
    reference = reference_for(idempotency_key, res.settings.reference_key.get_secret_value())
    new = build_new_ticket(req, reference, res.settings.national_id_key.get_secret_value())
    workflow_id = ticket_workflow_id(new.reference)
    task_queue = res.settings.temporal_task_queue
    attributes = adoption.base_attributes(new)
    try:
        client = await res.temporal.get()
        async with asyncio.timeout(CREATE_TIMEOUT_SECONDS):
            if res.settings.temporal_create_mode == "row_then_start":
                result = await _row_then_start(res, client, new, attributes)
            elif res.settings.temporal_create_mode == "start_then_update":
                result = await _start_then_update(client, new, workflow_id, task_queue, attributes)
            else:
                operation = WithStartWorkflowOperation(
                    TicketWorkflow.run,
                    new,
                    id=workflow_id,
                    task_queue=task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    search_attributes=attributes,
                )
                adoption.collect_start_error(operation)
                result = await client.execute_update_with_start_workflow(
                    CREATE, new.fingerprint, start_workflow_operation=operation
                )
    except WorkflowUpdateFailedError as err:
        raise _refusal(err) from None
    except WorkflowAlreadyStartedError:
        # The ticket's workflow has already finished: answer from the read model.
        return Created(ticket=await _finished(res, new), created=False)
    except (
        RPCError,
        TimeoutError,
        OSError,
        RuntimeError,
        WorkflowUpdateRPCTimeoutOrCancelledError,
    ) as err:
        log.warning("ticket creation unavailable: %s %s", type(err).__name__, err)
        raise ApiError(
            503,
            "ticket.unavailable_idempotent",
            extra={"dependency": "temporal"},
            headers={"Retry-After": "2"},
        ) from None
    return Created(ticket=result.ticket, created=result.created)


async def _row_then_start(
    res: Resources, client: Client, new: NewTicket, attributes: TypedSearchAttributes
) -> CreateResult:
    """Number and insert the ticket in one transaction, then start its workflow with the
    row (and, with a chat, its "created" message) by idempotent starts. Until those starts
    are seen to succeed the row stays unadopted: a retry with the same Idempotency-Key, or
    the adoption sweep (api.services.adoption), starts them."""
    outcome = await store.create_ticket(
        res.engine, new, res.settings.default_time_zone, workflow_pending=True
    )
    if outcome.ticket is None:
        active = outcome.conflicting.model_dump(mode="json") if outcome.conflicting else None
        raise ApiError(
            409, "ticket.active_exists", extra={"activeTicket": _public(active)} if active else None
        )
    if outcome.fingerprint_mismatch:
        raise ApiError(422, "idempotency.mismatch", field="Idempotency-Key")
    ticket = outcome.ticket
    if TicketStatus(ticket.status) in ACTIVE_STATUSES:
        # A retry starts them too: its first attempt may have died between commit and start.
        given = {
            "replayed": False,
            "advisor_free": outcome.advisor_free or outcome.replayed,
            "created_message_started": new.telegram_chat_id is not None,
            "create_follows": True,
        }
        started = new.model_copy(update={"created": outcome.model_copy(update=given)})
        await adoption.start_workflows(
            client,
            started,
            res.settings.temporal_task_queue,
            attributes,
            multi_operations=res.settings.temporal_multi_operations,
        )
        adoption.seen_started(res, new.reference)
    if not outcome.replayed and outcome.branch_id is not None and res.publisher is not None:
        res.background(
            res.publisher.publish_event(
                ticket_event_routing_key(outcome.branch_id, "CREATE"), created_event(ticket)
            )
        )
    return CreateResult(ticket=ticket, created=not outcome.replayed)


async def _start_then_update(
    client: Client,
    new: NewTicket,
    workflow_id: str,
    task_queue: str,
    attributes: TypedSearchAttributes,
) -> CreateResult:
    """Two calls instead of one atomic one; a start lost in between times out harmlessly."""
    try:
        handle = await client.start_workflow(
            TicketWorkflow.run,
            new,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=attributes,
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(workflow_id)
    try:
        result: CreateResult = await handle.execute_update(CREATE, new.fingerprint)
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise WorkflowAlreadyStartedError(workflow_id, TICKET_WORKFLOW) from err
        raise
    return result


def _refusal(err: WorkflowUpdateFailedError) -> ApiError:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == ERR_ACTIVE_TICKET_EXISTS:
        active = cause.details[0] if cause.details else None
        return ApiError(
            409,
            "ticket.active_exists",
            extra={"activeTicket": _public(active)} if active else None,
        )
    if isinstance(cause, ApplicationError) and cause.type == ERR_IDEMPOTENCY_MISMATCH:
        return ApiError(422, "idempotency.mismatch", field="Idempotency-Key")
    log.error("ticket creation failed: %s", cause)
    return ApiError(503, "ticket.not_created", headers={"Retry-After": "2"})


def _public(active: object) -> dict[str, object]:
    """The active ticket without its reference: the reference lets its holder cancel it,
    and whoever knows a person's national id must not obtain it here."""
    view = TicketView.model_validate(active)
    return TicketResponse.of(view).model_dump(
        mode="json", by_alias=True, exclude={"reference", "telegram_link", "qr_code_url"}
    )


async def _finished(res: Resources, new: NewTicket) -> TicketView:
    async with res.engine.connect() as conn:
        ticket = await store.get_ticket(conn, new.reference)
        if ticket is not None:
            return ticket
        active = await store.find_active(conn, new.branch_office, new.national_id_hash)
    if active is not None:
        raise ApiError(
            409,
            "ticket.active_exists",
            extra={"activeTicket": _public(active.model_dump(mode="json"))},
        )
    raise ApiError(
        409,
        "idempotency.no_ticket",
        field="Idempotency-Key",
    )


async def get_ticket(res: Resources, reference: uuid.UUID) -> TicketView:
    async with res.engine.connect() as conn:
        ticket = await store.get_ticket(conn, reference)
    if ticket is None:
        raise ApiError(404, "ticket.not_found", params={"reference": reference})
    return ticket


async def get_by_number(res: Resources, number: str, branch_office: str) -> TicketView:
    async with res.engine.connect() as conn:
        ticket = await store.find_by_number(conn, branch_office, number)
    if ticket is None:
        raise ApiError(
            404, "ticket.number_not_found", params={"number": number, "branch": repr(branch_office)}
        )
    return ticket
