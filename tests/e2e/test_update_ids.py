"""A retried action is the same update: the Idempotency-Key (API) or the reservation
(dispatcher) names the workflow update, so the server answers a repeat with the first
outcome instead of running the transition twice (a second RECALL, a second CANCEL)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter

from api.services.lifecycle import update_id
from domain.contracts import TRANSITION_UPDATE, TicketState, Transition, ticket_workflow_id
from tests.e2e.test_lifecycle import create, trail
from tests.support.branches import add_branch
from tests.support.stack import Stack
from tests.support.staff import add_advisor

pytestmark = pytest.mark.e2e


async def test_the_same_recall_sent_twice_with_one_key_recalls_once(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    ticket = await create(api, branch)
    advisor = await add_advisor(db, api, branch, desk=2, queues=["CAJA"])
    called = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    assert called.status_code == 200, called.text
    headers = {**advisor.headers, "Idempotency-Key": f"recall-{uuid.uuid4()}"}
    url = f"/api/tickets/{ticket['reference']}/recall"

    first = await api.post(url, headers=headers)
    again = await api.post(url, headers=headers)  # the client's retry
    assert first.status_code == again.status_code == 200, again.text
    actions = [a for a, *_ in await trail(db, ticket["reference"])]
    assert actions.count("RECALL") == 1, actions

    other = await api.post(url, headers={**advisor.headers, "Idempotency-Key": "another"})
    assert other.status_code == 200
    actions = [a for a, *_ in await trail(db, ticket["reference"])]
    assert actions.count("RECALL") == 2, actions  # a new key is a new announcement


async def test_a_retry_after_the_api_gave_up_is_not_a_second_update(
    api: httpx.AsyncClient, db: AsyncEngine, stack: Stack
) -> None:
    """The first attempt reached Temporal but the API answered 503 at 15 s (simulated: the
    update is sent straight to the workflow); the client's retry carries the same key."""
    branch = await add_branch(api)
    ticket = await create(api, branch)
    advisor = await add_advisor(db, api, branch, desk=3, queues=["CAJA"])
    assert (await api.post("/api/advisors/me/call-next", headers=advisor.headers)).is_success
    key = f"recall-{uuid.uuid4()}"
    client = await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
    handle = client.get_workflow_handle(ticket_workflow_id(uuid.UUID(ticket["reference"])))
    request = Transition(
        action="RECALL", actor=f"advisor:{advisor.advisor_id}", advisor_id=advisor.advisor_id
    )
    lost = await handle.start_update(
        TRANSITION_UPDATE,
        request,
        id=update_id("RECALL", key),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        result_type=TicketState,
    )
    await lost.result()

    retry = await api.post(
        f"/api/tickets/{ticket['reference']}/recall",
        headers={**advisor.headers, "Idempotency-Key": key},
    )
    assert retry.status_code == 200, retry.text
    actions = [a for a, *_ in await trail(db, ticket["reference"])]
    assert actions.count("RECALL") == 1, actions
