"""A reference is a secret nobody can compute, and a deep link never moves a ticket's chat."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.contracts import LINK_CHAT_SIGNAL, LinkChat, ticket_workflow_id
from tests.notifications.helpers import Phone, create_ticket
from tests.support.branches import add_branch
from tests.support.data import chat_id, ticket_body
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
#: The public namespace references used to be `uuid5` of the Idempotency-Key under.
OLD_NAMESPACE = uuid.UUID("3c5e2a0e-6d1b-4f7a-9a8e-2b7d4c1f9e55")
WELL_KNOWN = (OLD_NAMESPACE, uuid.NAMESPACE_DNS, uuid.NAMESPACE_URL, uuid.NAMESPACE_OID)


def start_payload(ticket: dict[str, object]) -> str:
    return str(ticket["telegramLink"]).split("start=", 1)[1]


async def chat_of(db: AsyncEngine, reference: str) -> int | None:
    async with db.connect() as conn:
        query = text("SELECT telegram_chat_id FROM ticket WHERE reference = :r")
        value = (await conn.execute(query, {"r": uuid.UUID(reference)})).scalar_one()
    return None if value is None else int(value)


async def test_an_idempotency_key_gives_a_stable_reference_nobody_can_compute(
    api: httpx.AsyncClient,
) -> None:
    key = f"kiosk-{uuid.uuid4()}"
    body = ticket_body(await add_branch(api))
    first = await api.post("/api/tickets", json=body, headers={"Idempotency-Key": key})
    again = await api.post("/api/tickets", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and again.status_code == 201, first.text
    reference = uuid.UUID(first.json()["reference"])
    assert uuid.UUID(again.json()["reference"]) == reference  # a replay names the same ticket
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert reference not in {uuid.uuid5(ns, key) for ns in WELL_KNOWN}
    assert reference not in {uuid.uuid3(ns, key) for ns in WELL_KNOWN}

    other = await api.post(
        "/api/tickets",
        json=ticket_body(await add_branch(api)),
        headers={"Idempotency-Key": f"kiosk-{uuid.uuid4()}"},
    )
    assert uuid.UUID(other.json()["reference"]) != reference


async def test_a_second_chat_cannot_take_a_ticket_over(
    api: httpx.AsyncClient, db: AsyncEngine, phone: Phone
) -> None:
    first, second = chat_id(), chat_id()
    ticket = await create_ticket(api)
    number, reference = str(ticket["number"]), str(ticket["reference"])

    await phone.start(first, start_payload(ticket))
    [created] = await phone.wait_messages(first, 1)
    assert number in created["text"]

    await phone.start(second, start_payload(ticket))
    [refusal] = await phone.wait_messages(second, 1)
    assert "otro chat" in refusal["text"] and number in refusal["text"], refusal["text"]
    assert "Posición" not in refusal["text"]  # nothing about the ticket's progress

    await phone.start(first, start_payload(ticket))  # the same chat again: fine, its status
    status = (await phone.wait_messages(first, 2))[-1]["text"]
    assert number in status and "Posición" in status
    assert await chat_of(db, reference) == first

    cancel = await api.post(f"/api/tickets/{reference}/cancel")
    assert cancel.status_code == 200, cancel.text
    assert "anulado" in (await phone.wait_messages(first, 3))[-1]["text"]
    assert len(await phone.messages(second)) == 1
    assert await chat_of(db, reference) == first


async def test_the_workflow_refuses_a_link_from_another_chat(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, phone: Phone
) -> None:
    """Even a link request that slips past the bot (two chats at once) keeps the first chat."""
    first, intruder = chat_id(), chat_id()
    ticket = await create_ticket(api, telegramChatId=first)
    reference = str(ticket["reference"])
    await phone.wait_messages(first, 1)

    client = await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
    handle = client.get_workflow_handle(ticket_workflow_id(uuid.UUID(reference)))
    await handle.signal(LINK_CHAT_SIGNAL, LinkChat(chat_id=intruder, language="es"))
    cancel = await api.post(f"/api/tickets/{reference}/cancel")
    assert cancel.status_code == 200, cancel.text

    assert "anulado" in (await phone.wait_messages(first, 2))[-1]["text"]
    assert await chat_of(db, reference) == first
    assert await phone.messages(intruder) == []
