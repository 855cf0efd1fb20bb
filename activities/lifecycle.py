"""Lifecycle activities: record a transition, then let the branch react to it."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.maintenance_mode import ensure_writable
from activities.publisher import Publisher
from assignment import dispatcher
from db import lifecycle, tickets
from domain.contracts import (
    AFTER_CHANGE,
    APPLY_TRANSITION,
    ERR_TICKET_GONE,
    NEAR_TURN_SIGNAL,
    RECORD_CHAT_LINK,
    AppliedTransition,
    LinkRecord,
    QueueChange,
    TransitionRecord,
)
from messaging.live import ticket_event_routing_key

log = logging.getLogger("ticketero.activities.lifecycle")


class LifecycleActivities:
    def __init__(self, engine: AsyncEngine, client: Client, publisher: Publisher) -> None:
        self._engine = engine
        self._client = client
        self._publisher = publisher

    @activity.defn(name=APPLY_TRANSITION)
    async def apply_transition(self, rec: TransitionRecord) -> AppliedTransition:
        """Write the transition to the read model (idempotent by event id), then tell the
        branch displays (at least once: a retried activity may repeat the event)."""
        await ensure_writable(self._engine)
        try:
            applied = await lifecycle.apply_transition(self._engine, rec)
        except lifecycle.TicketGone as err:
            raise _gone(err) from None
        await self._publisher.publish_event(
            ticket_event_routing_key(applied.branch_id, rec.action),
            {
                "branch": applied.branch_name,
                "number": applied.number,
                "queue": applied.queue,
                "action": rec.action,
                "status": rec.to_status,
                "desk": rec.desk,
                "at": rec.at.isoformat(),
                "eventId": str(rec.event_id),
            },
        )
        return applied

    @activity.defn(name=RECORD_CHAT_LINK)
    async def link_chat(self, rec: LinkRecord) -> None:
        """Record the customer's chat for the ticket's messages."""
        await ensure_writable(self._engine)
        try:
            await lifecycle.link_chat(self._engine, rec)
        except lifecycle.TicketGone as err:
            raise _gone(err) from None

    @activity.defn(name=AFTER_CHANGE)
    async def after_queue_change(self, change: QueueChange) -> int:
        """Free advisors take waiting tickets; tickets now near their turn are told so.

        Everything here is safe to repeat: reservations are compare-and-set, a
        refused CALL is released, and a near-turn signal to a ticket that is no
        longer WAITING is ignored by its workflow.

        CALLs are started and awaited only until the other ticket's workflow accepts them
        (not until recorded): their recording needs activity slots on this same task queue,
        so waiting for it here could starve the queue in a burst. Heartbeats between steps.
        """
        await ensure_writable(self._engine)
        called = 0
        if change.reservation_of is not None:
            # The ticket's own reservation timer (or a replayed creation): its CALL, if the
            # process that reserved it died before sending it.
            state = await dispatcher.call_reserved(
                self._engine, self._client, change.reservation_of, accepted_only=True
            )
            called += state is not None
            activity.heartbeat()
        if change.freed_advisor_id is not None:
            state = await dispatcher.call_next(
                self._engine,
                self._client,
                change.freed_advisor_id,
                "system",
                auto=True,
                accepted_only=True,
            )
            called += state is not None
            activity.heartbeat()
        called += len(
            await dispatcher.dispatch(
                self._engine, self._client, change.branch_id, change.queues, accepted_only=True
            )
        )
        activity.heartbeat()
        for queue in change.queues:
            async with self._engine.connect() as conn:
                workflow_ids = await tickets.near_turn_workflows(conn, change.branch_id, queue)
            for workflow_id in workflow_ids:
                activity.heartbeat()
                try:
                    await self._client.get_workflow_handle(workflow_id).signal(NEAR_TURN_SIGNAL)
                except RPCError as err:
                    log.info("near-turn signal not delivered: %s", err.status)
        return called


def _gone(err: LookupError) -> ApplicationError:
    """A missing row does not come back by retrying: fail at once, the workflow decides."""
    return ApplicationError(
        f"ticket {err} has no row in the read model", type=ERR_TICKET_GONE, non_retryable=True
    )
