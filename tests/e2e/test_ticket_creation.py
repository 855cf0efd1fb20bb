"""Ticket creation through the running stack: API, Temporal, PostgreSQL, RabbitMQ, Telegram."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.branches import add_branch
from tests.support.data import chat_id, national_id, ticket_body
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e

RUNBOOK_BODY = {"nationalId": "99999999", "branchOffice": "Test", "queue": "CAJA"}


async def test_runbook_functional_test_gets_201(api: httpx.AsyncClient) -> None:
    resp = await api.post("/api/tickets", json=RUNBOOK_BODY)

    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert re.fullmatch(r"C\d{2,}", body["number"])
    assert body["status"] == "WAITING"
    assert body["queue"] == "CAJA"
    assert body["branchOffice"] == "Test"
    assert body["position"] >= 1
    assert body["ticketsAhead"] == body["position"] - 1
    # nobody serves the runbook's branch unless a test signed an advisor in there
    assert body["estimatedWaitMinutes"] is None or body["estimatedWaitMinutes"] >= 0
    if body["estimatedWaitMinutes"] is None:
        assert body["estimatedWaitReason"] == "NO_ADVISORS"
    assert uuid.UUID(body["reference"])
    assert "createdAt" in body
    assert "99999999" not in resp.text, "the national id must not be echoed"
    assert resp.headers["location"] == f"/api/tickets/{body['reference']}"


async def test_queue_type_alias_and_rut_are_accepted(api: httpx.AsyncClient) -> None:
    branch = await add_branch(api)
    resp = await api.post(
        "/api/tickets",
        json={"nationalId": "12.345.678-5", "branchOffice": branch, "queueType": "EMPRESAS"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["number"] == "E01"
    assert "12.345.678" not in resp.text and "12345678" not in resp.text


async def test_ticket_created_message_reaches_the_linked_chat(
    api: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    chat = chat_id()
    resp = await api.post(
        "/api/tickets",
        json=ticket_body(await add_branch(api), "PERSONAL_BANKER", telegramChatId=chat),
    )
    assert resp.status_code == 201, resp.text
    number = resp.json()["number"]

    async def delivered() -> list[dict[str, object]] | None:
        got = await sandbox.get(f"/sandbox/chats/{chat}/messages")
        return got.json() if got.status_code == 200 and got.json() else None

    messages = await eventually(delivered, timeout=10, what="the ticket-created message")
    assert len(messages) == 1
    text = str(messages[0]["text"])
    assert number in text
    assert "Ejecutivo de cuentas" in text
    assert "próximo" in text and "Espera estimada" in text  # first in its queue
    assert messages[0]["parse_mode"] == "HTML"


async def test_ticket_without_chat_sends_nothing(
    api: httpx.AsyncClient, sandbox: httpx.AsyncClient, db: AsyncEngine
) -> None:
    """Only the ticket given a chat gets a message, counted per ticket in `mensaje` and per
    chat (the sandbox's global count also moves with other tests' late messages)."""
    resp = await api.post("/api/tickets", json=ticket_body(await add_branch(api)))
    assert resp.status_code == 201
    chat = chat_id()
    body = ticket_body(await add_branch(api), telegramChatId=chat)
    linked = await api.post("/api/tickets", json=body)
    assert linked.status_code == 201

    async def delivered() -> bool:
        got = await sandbox.get(f"/sandbox/chats/{chat}/messages")
        return got.status_code == 200 and len(got.json()) == 1

    await eventually(delivered, what="the linked ticket's message")
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT ticket_reference, count(*) AS n FROM mensaje"
                    " WHERE ticket_reference IN (:alone, :linked) GROUP BY ticket_reference"
                ),
                {"alone": resp.json()["reference"], "linked": linked.json()["reference"]},
            )
        ).all()
    assert {str(r.ticket_reference): r.n for r in rows} == {linked.json()["reference"]: 1}


async def test_hundred_concurrent_creations_get_consecutive_numbers(
    api: httpx.AsyncClient,
) -> None:
    branch = await add_branch(api)
    responses = await asyncio.gather(
        *(api.post("/api/tickets", json=ticket_body(branch, "GERENCIA")) for _ in range(100))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses[:3]]
    numbers = sorted(int(r.json()["number"][1:]) for r in responses)
    assert numbers == list(range(1, 101))
    assert all(r.json()["number"].startswith("G") for r in responses)
    assert "G100" in {r.json()["number"] for r in responses}
    positions = sorted(r.json()["position"] for r in responses)
    assert positions[0] == 1 and len(set(positions)) > 1


async def test_same_idempotency_key_returns_the_same_ticket(api: httpx.AsyncClient) -> None:
    branch = await add_branch(api)
    body = ticket_body(branch)
    key = f"test-{uuid.uuid4()}"

    first = await api.post("/api/tickets", json=body, headers={"Idempotency-Key": key})
    again = await api.post("/api/tickets", json=body, headers={"Idempotency-Key": key})

    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert again.json()["number"] == first.json()["number"] == "C01"
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    # Nothing new was created: the next ticket in that queue is number 2.
    other = await api.post("/api/tickets", json=ticket_body(branch))
    assert other.json()["number"] == "C02"


async def test_idempotency_key_reused_with_another_body_is_refused(
    api: httpx.AsyncClient,
) -> None:
    key = f"test-{uuid.uuid4()}"
    branch = await add_branch(api)
    assert (
        await api.post("/api/tickets", json=ticket_body(branch), headers={"Idempotency-Key": key})
    ).status_code == 201
    resp = await api.post(
        "/api/tickets", json=ticket_body(branch), headers={"Idempotency-Key": key}
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_second_active_ticket_for_same_person_is_409(api: httpx.AsyncClient) -> None:
    branch = await add_branch(api)
    person = national_id()
    first = await api.post(
        "/api/tickets", json={"nationalId": person, "branchOffice": branch, "queue": "CAJA"}
    )
    assert first.status_code == 201
    second = await api.post(
        "/api/tickets",
        json={"nationalId": person, "branchOffice": branch.upper(), "queue": "EMPRESAS"},
    )
    assert second.status_code == 409, second.text
    active = second.json()["activeTicket"]
    assert active["number"] == "C01" and active["status"] == "WAITING"
    assert "reference" not in active, "the reference is the ticket holder's capability"
    assert first.json()["reference"] not in second.text
    assert person not in second.text
    # The refused request consumed no number.
    nxt = await api.post("/api/tickets", json=ticket_body(branch, "EMPRESAS"))
    assert nxt.json()["number"] == "E01"
    # Another branch is fine.
    elsewhere = await api.post(
        "/api/tickets",
        json={"nationalId": person, "branchOffice": await add_branch(api), "queue": "CAJA"},
    )
    assert elsewhere.status_code == 201


async def test_get_ticket_and_position(api: httpx.AsyncClient) -> None:
    branch = await add_branch(api)
    created = [
        (await api.post("/api/tickets", json=ticket_body(branch, "PERSONAL_BANKER"))).json()
        for _ in range(3)
    ]
    third = created[2]

    got = await api.get(f"/api/tickets/{third['reference']}")
    assert got.status_code == 200
    assert got.json()["number"] == "P03"
    assert got.json()["position"] == 3 and got.json()["ticketsAhead"] == 2

    pos = await api.get("/api/tickets/P03/position", params={"branchOffice": branch})
    assert pos.status_code == 200, pos.text
    body = pos.json()
    assert body["position"] == 3 and body["ticketsAhead"] == 2
    # no advisor serves this branch: no time is promised
    assert body["estimatedWaitMinutes"] is None and body["estimatedWaitRange"] is None
    assert body["estimatedWaitReason"] == created[0]["estimatedWaitReason"] == "NO_ADVISORS"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/tickets/{uuid.uuid4()}",
        "/api/tickets/C99/position?branchOffice=Nowhere",
        "/api/tickets/C%0099/position?branchOffice=Nowhere",
    ],
)
async def test_unknown_tickets_are_404_json(api: httpx.AsyncClient, path: str) -> None:
    resp = await api.get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["status"] == 404 and resp.json()["message"]


async def test_malformed_json_is_400(api: httpx.AsyncClient) -> None:
    resp = await api.post(
        "/api/tickets",
        content=b'{"nationalId": "99999999", "branchOffice": ',
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.json()["status"] == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nationalId": "12.345.678-4", "branchOffice": "X", "queue": "CAJA"}, "nationalId"),
        ({"nationalId": "1234", "branchOffice": "X", "queue": "CAJA"}, "nationalId"),
        ({"nationalId": 99999999, "branchOffice": "X", "queue": "CAJA"}, "nationalId"),
        ({"nationalId": "99999999", "branchOffice": "X", "queue": "VIP"}, "queue"),
        ({"nationalId": "99999999", "branchOffice": "   ", "queue": "CAJA"}, "branchOffice"),
        ({"nationalId": "99999999", "branchOffice": "B" * 101, "queue": "CAJA"}, "branchOffice"),
        ({"nationalId": "99999999", "queue": "CAJA"}, "branchOffice"),
        ({"branchOffice": "X", "queue": "CAJA"}, "nationalId"),
        ({"nationalId": "99999999", "branchOffice": "X"}, "queue"),
        ({"nationalId": "99999999", "branchOffice": "X", "queue": "CAJA", "phone": "12"}, "phone"),
        (
            {"nationalId": "99999999", "branchOffice": "X", "queue": "CAJA", "telegramChatId": "x"},
            "telegramChatId",
        ),
        (
            {
                "nationalId": "99999999",
                "branchOffice": "X",
                "queue": "CAJA",
                "telegramChatId": 2**64,
            },
            "telegramChatId",
        ),
        (
            {"nationalId": "99999999", "branchOffice": "Sucursal\u0000", "queue": "CAJA"},
            "branchOffice",
        ),
    ],
)
async def test_invalid_values_are_422_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    resp = await api.post("/api/tickets", json=body)
    assert resp.status_code == 422, resp.text
    fields = [e["field"] for e in resp.json()["errors"]]
    assert field in fields, fields


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"null"])
async def test_non_object_bodies_are_4xx(api: httpx.AsyncClient, raw: bytes) -> None:
    resp = await api.post("/api/tickets", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= resp.status_code < 500
    assert resp.json()["status"] == resp.status_code


async def test_malformed_reference_is_4xx(api: httpx.AsyncClient) -> None:
    resp = await api.get("/api/tickets/not-a-uuid")
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "reference"


async def test_bad_idempotency_key_is_400(api: httpx.AsyncClient) -> None:
    resp = await api.post(
        "/api/tickets",
        json=ticket_body(await add_branch(api)),
        headers={"Idempotency-Key": "x" * 200},
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_control_characters_in_a_query_are_422(api: httpx.AsyncClient) -> None:
    resp = await api.get("/api/tickets/C01/position", params={"branchOffice": "Test\x00"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "branchOffice"
