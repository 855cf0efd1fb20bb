"""Tickets persisted before their workflow starts (`TEMPORAL_CREATE_MODE=row_then_start`),
and rows left without a workflow, in any mode.

In that mode the API commits the row first and starts the workflow second (one workflow
task, whose `create` update answers from the row). A process that dies in between leaves
a row without a workflow; a retry with the same Idempotency-Key, or any API's adoption
sweep, starts it from the row.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from api.schemas.tickets import CreateTicketRequest
from api.services.tickets import build_new_ticket, reference_for
from db.tickets import create_ticket
from devstack.stack import effective_settings
from domain.contracts import CreateOutcome, ticket_workflow_id
from tests.support.branches import add_branch
from tests.support.data import chat_id, ticket_body
from tests.support.extra_api import extra_api
from tests.support.stack import Stack
from tests.support.wait import eventually
from workflows import search

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def row_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An API of the stack's that creates tickets row first."""
    async with extra_api(
        stack, "api-row-first", {"TEMPORAL_CREATE_MODE": "row_then_start"}
    ) as client:
        yield client


async def _client(stack: Stack) -> Client:
    return await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)


async def _committed_only(
    stack: Stack, db: AsyncEngine, body: dict[str, object], key: str | None = None
) -> CreateOutcome:
    """What an API that died right after its commit leaves: the row, no workflow."""
    cfg = effective_settings(stack.env)
    reference = reference_for(key, cfg.reference_key.get_secret_value())
    req = CreateTicketRequest.model_validate(body)
    new = build_new_ticket(req, reference, cfg.national_id_key.get_secret_value())
    outcome = await create_ticket(db, new, cfg.default_time_zone, workflow_pending=True)
    assert outcome.ticket is not None and not outcome.replayed
    return outcome


async def _description(client: Client, reference: uuid.UUID) -> WorkflowExecutionDescription | None:
    try:
        return await client.get_workflow_handle(ticket_workflow_id(reference)).describe()
    except RPCError:
        return None


async def test_creation_is_one_workflow_task_answering_from_the_row(
    api: httpx.AsyncClient, row_api: httpx.AsyncClient, stack: Stack, db: AsyncEngine
) -> None:
    resp = await row_api.post("/api/tickets", json=ticket_body(await add_branch(api)))
    assert resp.status_code == 201, resp.text
    ticket = resp.json()
    client = await _client(stack)
    handle = client.get_workflow_handle(ticket_workflow_id(uuid.UUID(ticket["reference"])))
    described = await handle.describe()
    assert described.typed_search_attributes.get(search.TICKET_NUMBER) == ticket["number"]
    assert described.typed_search_attributes.get(search.TICKET_STATUS) == "WAITING"

    async def first_task_done() -> list[EventType.ValueType] | None:
        kinds = [e.event_type async for e in handle.fetch_history_events()]
        return kinds if EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in kinds else None

    kinds = await eventually(first_task_done, what="the workflow's first task")
    # One task answers the API's `create` update from the row: no local activity (marker),
    # no upsert (the attributes came with the start).
    assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1, kinds
    assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED) == 1, kinds
    for absent in (
        EventType.EVENT_TYPE_MARKER_RECORDED,
        EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    ):
        assert absent not in kinds, kinds

    async def marked() -> bool:
        async with db.connect() as conn:
            return bool(
                (
                    await conn.execute(
                        text("SELECT workflow_started FROM ticket WHERE reference = :r"),
                        {"r": uuid.UUID(ticket["reference"])},
                    )
                ).scalar_one()
            )

    await eventually(marked, what="the row marked as started")


async def test_a_row_left_without_its_workflow_is_adopted_and_its_message_sent(
    api: httpx.AsyncClient, sandbox: httpx.AsyncClient, stack: Stack, db: AsyncEngine
) -> None:
    chat = chat_id()
    outcome = await _committed_only(
        stack, db, ticket_body(await add_branch(api), telegramChatId=chat)
    )
    assert outcome.ticket is not None
    ticket = outcome.ticket
    client = await _client(stack)

    described = await eventually(
        lambda: _description(client, ticket.reference),
        timeout=30,
        what="the adoption sweep starting the workflow",
    )
    assert described.typed_search_attributes.get(search.TICKET_NUMBER) == ticket.number

    async def delivered() -> list[dict[str, object]] | None:
        got = await sandbox.get(f"/sandbox/chats/{chat}/messages")
        return got.json() if got.status_code == 200 and got.json() else None

    messages = await eventually(delivered, timeout=15, what="the adopted ticket's message")
    assert len(messages) == 1 and ticket.number in str(messages[0]["text"])
    # The workflow is the ticket's: the customer can cancel it through the API.
    reference = str(ticket.reference)
    cancelled = await api.post(f"/api/tickets/{reference}/cancel", json={"reason": "adopted"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"


@pytest.mark.parametrize("mode", ["row_then_start", "update_with_start"])
async def test_a_retry_with_the_same_key_starts_what_its_first_attempt_did_not(
    api: httpx.AsyncClient, row_api: httpx.AsyncClient, stack: Stack, db: AsyncEngine, mode: str
) -> None:
    body = ticket_body(await add_branch(api))
    key = f"test-{uuid.uuid4()}"
    outcome = await _committed_only(stack, db, body, key)
    assert outcome.ticket is not None
    client = await _client(stack)
    assert await _description(client, outcome.ticket.reference) is None

    creator = row_api if mode == "row_then_start" else api
    again = await creator.post("/api/tickets", json=body, headers={"Idempotency-Key": key})

    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["number"] == outcome.ticket.number
    # Started by the retry itself, well before the sweep would look at the row.
    described = await _description(client, outcome.ticket.reference)
    assert described is not None
    assert described.typed_search_attributes.get(search.TICKET_NUMBER) == outcome.ticket.number
