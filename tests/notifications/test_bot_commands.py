"""The bot through the sandbox phone: deep link, /estado, /cancelar + /confirmar, help."""

from __future__ import annotations

import httpx
import pytest

from tests.notifications.helpers import Phone, create_ticket
from tests.support.data import chat_id
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


def start_payload(ticket: dict[str, object]) -> str:
    link = str(ticket["telegramLink"])
    assert "start=" in link, link
    return link.split("start=", 1)[1]


async def test_deep_link_status_cancel_and_help(api: httpx.AsyncClient, phone: Phone) -> None:
    ticket = await create_ticket(api)
    number, reference = str(ticket["number"]), str(ticket["reference"])
    chat = chat_id()

    await phone.start(chat, start_payload(ticket))
    [created] = await phone.wait_messages(chat, 1)
    assert number in created["text"] and "Espera estimada" in created["text"]

    await phone.send(chat, "/estado")
    status = (await phone.wait_messages(chat, 2))[-1]["text"]
    assert number in status and "Posición: <b>1</b>" in status

    await phone.send(chat, "/cancelar")
    prompt = (await phone.wait_messages(chat, 3))[-1]["text"]
    assert "/confirmar" in prompt and number in prompt

    await phone.send(chat, "/confirmar")

    async def cancelled() -> bool:
        resp = await api.get(f"/api/tickets/{reference}")
        return bool(resp.json()["status"] == "CANCELLED")

    await eventually(cancelled, timeout=15, what="the ticket CANCELLED")
    cancel_message = (await phone.wait_messages(chat, 4))[-1]["text"]
    assert number in cancel_message and "anulado" in cancel_message

    await phone.send(chat, "/estado@TicketeroSandboxBot")  # says how today's ticket ended
    ended = (await phone.wait_messages(chat, 5))[-1]["text"]
    assert number in ended and "ya no está activo" in ended and "anulado" in ended, ended

    await phone.start(chat, start_payload(ticket))  # the link of a cancelled ticket
    assert "ya no está activo" in (await phone.wait_messages(chat, 6))[-1]["text"]

    await phone.send(chat, "/hola")
    assert "/estado" in (await phone.wait_messages(chat, 7))[-1]["text"]


async def test_tampered_or_missing_payload_gets_help(api: httpx.AsyncClient, phone: Phone) -> None:
    payload = start_payload(await create_ticket(api))
    tampered = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    chat = chat_id()

    await phone.start(chat, tampered)
    [help_text] = await phone.wait_messages(chat, 1)
    assert "/estado" in help_text["text"] and "/cancelar" in help_text["text"]

    await phone.send(chat, "/start")
    assert "/estado" in (await phone.wait_messages(chat, 2))[-1]["text"]
    await phone.send(chat, "/confirmar")
    assert "nada que confirmar" in (await phone.wait_messages(chat, 3))[-1]["text"]
    await phone.send(chat, "/estado")  # this chat never followed a ticket
    assert "No tiene un turno activo" in (await phone.wait_messages(chat, 4))[-1]["text"]


# A second chat opening the link is refused: tests/security/test_public_links.py.
