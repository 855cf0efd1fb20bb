"""The messages a customer receives over a whole ticket life: each once, in order."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from domain.contracts import (
    MSG_CREATED,
    MSG_TURN_NEAR,
    MSG_YOUR_TURN,
    URGENT_PRIORITY_KEY,
    notification_workflow_id,
)
from tests.notifications.helpers import Phone, bridge_ready
from tests.support.branches import add_branch
from tests.support.data import chat_id, ticket_body
from tests.support.stack import Stack
from tests.support.staff import Staff, add_advisor
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
async def phone(sandbox: httpx.AsyncClient) -> Phone:
    await bridge_ready(sandbox)
    return Phone(sandbox)


def start_payload(ticket: dict[str, Any]) -> str:
    return str(ticket["telegramLink"]).split("start=", 1)[1]


async def chat_texts(phone: Phone, chat: int, has: str) -> list[str]:
    async def arrived() -> list[str] | None:
        texts = [str(m["text"]) for m in await phone.messages(chat)]
        return texts if any(has in t for t in texts) else None

    return await eventually(arrived, timeout=20, what=f"{has!r} in chat {chat}")


async def serve_next(api: httpx.AsyncClient, advisor: Staff) -> str:
    async def called() -> str | None:
        me = (await api.get("/api/advisors/me", headers=advisor.headers)).json()
        held = me["ticket"]
        if held is None:
            resp = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
            held = resp.json().get("ticket") if resp.status_code == 200 else None
        return str(held["reference"]) if held and held["status"] == "CALLED" else None

    reference = await eventually(called, timeout=15, what="a called ticket")
    for action in ("start", "complete"):
        resp = await api.post(f"/api/tickets/{reference}/{action}", headers=advisor.headers)
        assert resp.status_code == 200, resp.text
    return reference


async def test_created_near_and_your_turn_arrive_once_in_order(
    api: httpx.AsyncClient, sandbox: httpx.AsyncClient, db: AsyncEngine, stack: Stack
) -> None:
    branch = await add_branch(api)
    ahead = [
        (await api.post("/api/tickets", json=ticket_body(branch, "PERSONAL_BANKER"))).json()
        for _ in range(4)
    ]
    chat = chat_id()
    mine = (
        await api.post(
            "/api/tickets", json=ticket_body(branch, "PERSONAL_BANKER", telegramChatId=chat)
        )
    ).json()
    assert mine["position"] == 5
    advisor = await add_advisor(db, api, branch, desk=7, queues=["PERSONAL_BANKER"])

    for _ in ahead:
        await serve_next(api, advisor)
    served = await serve_next(api, advisor)
    assert served == mine["reference"]

    async def three() -> list[dict[str, Any]] | None:
        got = (await sandbox.get(f"/sandbox/chats/{chat}/messages")).json()
        return got if len(got) >= 3 else None

    messages = await eventually(three, timeout=20, what="three messages in the chat")
    texts = [m["text"] for m in messages]
    assert len(texts) == 3, texts
    assert "Su turno es el P05" in texts[0]
    assert "se acerca" in texts[1]
    assert "módulo 7" in texts[2] and "Asesor" in texts[2]
    expected = [("TICKET_CREATED", "SENT", 1), ("TURN_NEAR", "SENT", 1), ("YOUR_TURN", "SENT", 1)]

    async def recorded() -> list[tuple[str, str, int]] | None:
        # The bridge records SENT just after Telegram answers: the chat may see it first.
        async with db.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT type, state, attempts FROM mensaje WHERE ticket_reference = :r"
                        " ORDER BY created_at"
                    ),
                    {"r": mine["reference"]},
                )
            ).all()
        got = [(r.type, r.state, r.attempts) for r in rows]
        return got if got == expected else None

    await eventually(recorded, timeout=10, what="the three messages recorded SENT once")

    # The call's message runs ahead of Temporal's backlog; the others keep the default.
    client = await Client.connect(stack.temporal_address)
    reference = uuid.UUID(mine["reference"])
    keys = {}
    for kind in (MSG_CREATED, MSG_TURN_NEAR, MSG_YOUR_TURN):
        handle = client.get_workflow_handle(notification_workflow_id(reference, kind, 1))
        info = (await handle.describe()).raw_description.workflow_execution_info
        keys[kind] = info.priority.priority_key
    assert keys == {MSG_CREATED: 0, MSG_TURN_NEAR: 0, MSG_YOUR_TURN: URGENT_PRIORITY_KEY}, keys


async def test_called_again_after_a_transfer_gets_a_second_your_turn(
    api: httpx.AsyncClient, sandbox: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    chat = chat_id()
    mine = (
        await api.post("/api/tickets", json=ticket_body(branch, "CAJA", telegramChatId=chat))
    ).json()
    teller = await add_advisor(db, api, branch, desk=2, queues=["CAJA"])
    business = await add_advisor(db, api, branch, desk=8, queues=["EMPRESAS"])
    await api.post("/api/advisors/me/call-next", headers=teller.headers)
    moved = await api.post(
        f"/api/tickets/{mine['reference']}/transfer",
        json={"queue": "EMPRESAS"},
        headers=teller.headers,
    )
    assert moved.status_code == 200, moved.text
    called = await api.post("/api/advisors/me/call-next", headers=business.headers)
    assert called.json()["ticket"]["reference"] == mine["reference"]

    async def second_call() -> list[str] | None:
        got = (await sandbox.get(f"/sandbox/chats/{chat}/messages")).json()
        texts = [m["text"] for m in got] if isinstance(got, list) else []
        return texts if any("módulo 8" in t for t in texts) else None

    texts = await eventually(second_call, timeout=20, what="the second 'your turn'")
    turns = [t for t in texts if "Es su turno" in t]
    assert len(turns) == 2 and "módulo 2" in turns[0] and "módulo 8" in turns[1]
    assert sum("pasó a la fila" in t for t in texts) == 1
    assert "Su turno es el C01" in texts[0]


async def test_final_no_show_after_the_recall_says_the_ticket_is_over(
    api: httpx.AsyncClient, phone: Phone, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    chat = chat_id()
    mine = (
        await api.post("/api/tickets", json=ticket_body(branch, "CAJA", telegramChatId=chat))
    ).json()
    advisor = await add_advisor(db, api, branch, desk=3, queues=["CAJA"])
    ref = mine["reference"]
    await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    for action in ("no-show", "recall", "no-show"):
        resp = await api.post(f"/api/tickets/{ref}/{action}", headers=advisor.headers)
        assert resp.status_code == 200, (action, resp.text)

    texts = await chat_texts(phone, chat, "su turno terminó")
    assert sum("no se presentó nuevamente; su turno terminó" in t for t in texts) == 1, texts
    assert sum("no se presentó en el módulo" in t for t in texts) == 1, texts
    assert "Llamamos nuevamente su turno" in texts[-2]


async def test_the_language_of_the_linking_chat_is_kept(
    api: httpx.AsyncClient, phone: Phone, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    ticket = (await api.post("/api/tickets", json=ticket_body(branch, "CAJA"))).json()
    chat = chat_id()
    await phone.start(chat, start_payload(ticket), language="en")
    await chat_texts(phone, chat, "Your ticket is")
    advisor = await add_advisor(db, api, branch, desk=5, queues=["CAJA"])
    await api.post("/api/advisors/me/call-next", headers=advisor.headers)

    texts = await chat_texts(phone, chat, "desk 5")
    assert "It is your turn" in texts[-1], texts
    await phone.send(chat, "/status", language="en")
    texts = await chat_texts(phone, chat, "Status:")
    assert "Please go to <b>desk 5</b>" in texts[-1], texts


async def test_start_in_english_from_the_chat_given_at_creation_switches_its_language(
    api: httpx.AsyncClient, phone: Phone, db: AsyncEngine
) -> None:
    branch = await add_branch(api)
    chat = chat_id()
    ticket = (
        await api.post("/api/tickets", json=ticket_body(branch, "CAJA", telegramChatId=chat))
    ).json()
    await chat_texts(phone, chat, "Su turno es el")
    await phone.start(chat, start_payload(ticket), language="en")
    await chat_texts(phone, chat, "Status:")
    advisor = await add_advisor(db, api, branch, desk=6, queues=["CAJA"])
    await api.post("/api/advisors/me/call-next", headers=advisor.headers)

    texts = await chat_texts(phone, chat, "desk 6")
    assert "It is your turn" in texts[-1], texts
