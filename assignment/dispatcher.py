"""Turns reservations into calls: the ticket's workflow accepts CALL or the claim is released."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.service import RPCError, RPCStatusCode

from assignment import claims
from domain.contracts import (
    RESERVED_SIGNAL,
    STATE_QUERY,
    TRANSITION_UPDATE,
    Reservation,
    TicketState,
    Transition,
)
from domain.states import TicketAction, TicketStatus

log = logging.getLogger("ticketero.assignment")
#: Reservations tried per call before giving up (each refusal means the ticket moved on).
MAX_ATTEMPTS = 20
#: A reservation not yet called after this long was left behind by a crash (the sweep in
#: `dispatch`; a reserved ticket's own workflow times its CALL much sooner, see `reserve`).
STRANDED_AFTER = timedelta(seconds=30)
#: The announcement of a reservation holds the reservation's rows: never for long.
ANNOUNCE_TIMEOUT = timedelta(seconds=2)


class Refused(Exception):
    """The ticket's workflow refused the transition (it is no longer callable)."""


async def send_raw(
    client: Client, workflow_id: str, transition: Transition, update_id: str | None = None
) -> TicketState:
    """Run a transition update; Temporal's errors pass through untouched.

    `update_id` is the update's idempotency key: the server answers a second update with
    the same id on the same workflow run with the first one's outcome instead of running
    it again. Give one derived from the request (never random) wherever a retry may come.
    """
    state: TicketState = await client.get_workflow_handle(workflow_id).execute_update(
        TRANSITION_UPDATE, transition, id=update_id, result_type=TicketState
    )
    return state


async def send_accepted(
    client: Client, workflow_id: str, transition: Transition, update_id: str | None = None
) -> TicketState:
    """Start a transition update and return once the workflow has accepted it (its
    validator passed), without waiting for it to be recorded: for activities that update
    other tickets, which must not hold their slot while those tickets run activities."""
    handle = client.get_workflow_handle(workflow_id)
    await handle.start_update(
        TRANSITION_UPDATE,
        transition,
        id=update_id,
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        result_type=TicketState,
    )
    return TicketState(
        reference=uuid.UUID(workflow_id.removeprefix("ticket-")),
        number="",
        queue=transition.expected_queue or "",
        status=TicketStatus.CALLED.value,
        advisor_id=transition.advisor_id,
        desk=transition.desk,
    )


async def send(
    client: Client,
    workflow_id: str,
    transition: Transition,
    update_id: str | None = None,
    *,
    accepted_only: bool = False,
) -> TicketState:
    """Run a transition update; a refusal or a finished workflow raises Refused."""
    try:
        if accepted_only:
            return await send_accepted(client, workflow_id, transition, update_id)
        return await send_raw(client, workflow_id, transition, update_id)
    except WorkflowUpdateFailedError as err:
        raise Refused(str(err.cause)) from err
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise Refused(err.message) from err
        raise


def _call(claim: claims.Claim, actor: str) -> Transition:
    return Transition(
        action=TicketAction.CALL.value,
        actor=actor,
        advisor_id=claim.advisor.id,
        desk=claim.advisor.desk,
        advisor_name=claim.advisor.name,
        expected_queue=claim.queue,
    )


async def reservation_id(engine: AsyncEngine, action: str, claim: claims.Claim) -> str:
    """The update id of a reservation's CALL/RECALL: one reservation, one update, however
    often it is sent (a retry, the stranded-reservation sweep). A later reservation of the
    same ticket by the same advisor (after a transfer) has another claimed_at."""
    async with engine.connect() as conn:
        claimed_at = (
            await conn.execute(
                text("SELECT claimed_at FROM ticket WHERE reference = :r AND advisor_id = :a"),
                {"r": claim.reference, "a": claim.advisor.id},
            )
        ).scalar_one_or_none()
    stamp = claimed_at.isoformat() if claimed_at is not None else "unclaimed"
    return f"{action.lower()}-{claim.advisor.id}-{claim.reference}-{stamp}"


async def call_claimed(
    engine: AsyncEngine,
    client: Client,
    claim: claims.Claim,
    actor: str,
    *,
    accepted_only: bool = False,
) -> TicketState | None:
    try:
        update_id = await reservation_id(engine, TicketAction.CALL.value, claim)
        return await send(
            client, claim.workflow_id, _call(claim, actor), update_id, accepted_only=accepted_only
        )
    except Refused:
        await claims.release(engine, claim, datetime.now(UTC))
        return None
    except BaseException as err:
        # The CALL may or may not have happened: keep the reservation. Sending the same
        # CALL again is harmless (the workflow answers it idempotently), and the next
        # call-next or dispatch does so for a reservation left uncalled.
        log.warning(
            "CALL of %s for advisor %s unresolved: %s",
            claim.workflow_id,
            claim.advisor.id,
            type(err).__name__,
        )
        raise


async def announce(client: Client, claim: claims.Claim) -> None:
    """Tell the reserved ticket's workflow, which then times the CALL that must follow: if
    this process dies before sending it, the workflow has it sent again (durable timer).
    Best effort: unannounced, the reservation still has the stranded sweep of `dispatch`."""
    try:
        await client.get_workflow_handle(claim.workflow_id).signal(
            RESERVED_SIGNAL, Reservation(advisor_id=claim.advisor.id), rpc_timeout=ANNOUNCE_TIMEOUT
        )
    except RPCError as err:
        log.warning("reservation of %s not announced: %s", claim.workflow_id, err.status)


async def reserve(
    engine: AsyncEngine, client: Client, advisor_id: int, *, auto: bool
) -> claims.Claim | None:
    """Reserve the advisor's best waiting ticket, announced to its workflow before commit."""
    return await claims.claim_next(
        engine,
        advisor_id,
        datetime.now(UTC),
        auto=auto,
        on_reserved=lambda claim: announce(client, claim),
    )


async def call_reserved(
    engine: AsyncEngine, client: Client, reference: uuid.UUID, *, accepted_only: bool = False
) -> TicketState | None:
    """Send (again) the CALL of a ticket's uncalled reservation; None when there is none.
    The same update id as the first CALL: whichever arrives second is answered, not run."""
    claim = await claims.reservation_of(engine, reference)
    if claim is None:
        return None
    return await call_claimed(engine, client, claim, "system", accepted_only=accepted_only)


async def call_next(
    engine: AsyncEngine,
    client: Client,
    advisor_id: int,
    actor: str,
    *,
    auto: bool = False,
    accepted_only: bool = False,
) -> TicketState | None:
    """Reserve and call the advisor's best waiting ticket; None when nothing waits."""
    for _ in range(MAX_ATTEMPTS):
        claim = await reserve(engine, client, advisor_id, auto=auto)
        if claim is None:
            return None
        state = await call_claimed(engine, client, claim, actor, accepted_only=accepted_only)
        if state is not None:
            return state
    log.warning("advisor %s: every reserved ticket was refused", advisor_id)
    return None


async def recall(
    engine: AsyncEngine, client: Client, advisor_id: int, workflow_id: str, actor: str
) -> TicketState:
    """Call a no-show back once: the advisor must hold nothing else."""
    handle_state = await client.get_workflow_handle(workflow_id).query(
        STATE_QUERY, result_type=TicketState
    )
    claim = await claims.claim_specific(
        engine, advisor_id, handle_state.reference, datetime.now(UTC)
    )
    if claim is None:
        raise Refused("advisor holds another ticket or the ticket is held by someone else")
    transition = _call(claim, actor).model_copy(update={"action": TicketAction.RECALL.value})
    update_id = await reservation_id(engine, TicketAction.RECALL.value, claim)
    try:
        return await send(client, workflow_id, transition, update_id)
    except Refused:
        await claims.release(engine, claim, datetime.now(UTC))
        raise
    # Any other error: the RECALL may have landed; keep the reservation (see call_claimed).


async def dispatch(
    engine: AsyncEngine,
    client: Client,
    branch_id: int,
    queues: list[str],
    *,
    accepted_only: bool = False,
) -> list[TicketState]:
    """Give waiting tickets of `queues` to free advisors, least loaded and longest idle first.

    First, reservations stranded by a crash between claim and CALL get their CALL again
    (a repeated CALL is answered idempotently; a refused one releases the reservation).
    """
    called: list[TicketState] = []
    stale = datetime.now(UTC) - STRANDED_AFTER
    for claim in await claims.stranded(engine, branch_id, stale):
        # Waits for the outcome even when `accepted_only`: a CALL accepted and then refused
        # under the ticket's lock (rare) is seen here, and its reservation released.
        state = await call_claimed(engine, client, claim, "system")
        if state is not None:
            called.append(state)
    for advisor_id in await claims.free_advisors(engine, branch_id, queues):
        state = await call_next(
            engine, client, advisor_id, "system", auto=True, accepted_only=accepted_only
        )
        if state is not None:
            called.append(state)
    return called
