"""Lifecycle activities: record a transition, then let the branch react to it."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError

from assignment import dispatcher
from db import lifecycle, tickets
from workflows.contracts import (
    AFTER_CHANGE,
    APPLY_TRANSITION,
    AppliedTransition,
    QueueChange,
    TransitionRecord,
)

log = logging.getLogger("ticketero.activities.lifecycle")


class LifecycleActivities:
    def __init__(self, engine: AsyncEngine, client: Client) -> None:
        self._engine = engine
        self._client = client

    @activity.defn(name=APPLY_TRANSITION)
    async def apply_transition(self, rec: TransitionRecord) -> AppliedTransition:
        """Write the transition to the read model (idempotent by event id)."""
        return await lifecycle.apply_transition(self._engine, rec)

    @activity.defn(name=AFTER_CHANGE)
    async def after_queue_change(self, change: QueueChange) -> int:
        """Free advisors take waiting tickets; tickets now near their turn are told so.

        Everything here is safe to repeat: reservations are compare-and-set, a
        refused CALL is released, and a near-turn signal to a ticket that is no
        longer WAITING is ignored by its workflow.
        """
        called = 0
        if change.freed_advisor_id is not None:
            state = await dispatcher.call_next(
                self._engine, self._client, change.freed_advisor_id, "system", auto=True
            )
            called += state is not None
        called += len(
            await dispatcher.dispatch(self._engine, self._client, change.branch_id, change.queues)
        )
        for queue in change.queues:
            async with self._engine.connect() as conn:
                workflow_ids = await tickets.near_turn_workflows(conn, change.branch_id, queue)
            for workflow_id in workflow_ids:
                try:
                    await self._client.get_workflow_handle(workflow_id).signal("near_turn")
                except RPCError as err:
                    log.info("near-turn signal not delivered: %s", err.status)
        return called
