"""Reading updates and commands, and the expiry of pending cancellations."""

from __future__ import annotations

import asyncio
from typing import Any

from bridge.updates import ChatMessage, Command, UpdateHandler, parse_command, parse_update

BOT = "TicketeroSandboxBot"


def update(text: str | None, *, chat_type: str = "private", lang: str | None = "es",
           update_id: int = 1, chat: int = 5) -> dict[str, Any]:  # fmt: skip
    message: dict[str, Any] = {"chat": {"id": chat, "type": chat_type}, "from": {"id": chat}}
    if lang is not None:
        message["from"]["language_code"] = lang
    if text is not None:
        message["text"] = text
    return {"update_id": update_id, "message": message}


def test_private_messages_are_read_with_the_users_language() -> None:
    assert parse_update(update("/estado", lang="en-US")) == ChatMessage(1, 5, "/estado", "en")
    assert parse_update(update("hola", lang="pt-BR")) == ChatMessage(1, 5, "hola", "es")
    assert parse_update(update("hola", lang=None)) == ChatMessage(1, 5, "hola", "es")
    assert parse_update(update(None)) == ChatMessage(1, 5, "", "es")  # a sticker: help


def test_groups_edits_and_junk_are_ignored() -> None:
    assert parse_update(update("/estado", chat_type="group")) is None
    assert parse_update({"update_id": 3, "edited_message": {"text": "x"}}) is None
    assert parse_update({"message": {"chat": {"id": 1, "type": "private"}}}) is None
    assert parse_update({"update_id": 3, "message": "nope"}) is None


def test_commands_with_arguments_and_bot_suffix() -> None:
    assert parse_command("/start abc-123", BOT) == Command("start", "abc-123", True)
    assert parse_command("/Estado@ticketerosandboxbot", BOT) == Command("estado", "", True)
    assert parse_command("/estado@OtherBot", BOT) == Command("estado", "", False)
    assert parse_command("  /cancelar  ", BOT) == Command("cancelar", "", True)
    assert parse_command("hola", BOT) is None
    assert parse_command("/", BOT) is None
    assert parse_command("", BOT) is None


# The /cancelar confirmation store: tests/notifications/test_confirmations_store.py.


async def test_updates_of_one_chat_run_in_order_and_repeats_are_dropped() -> None:
    seen: list[str] = []
    gate = asyncio.Event()

    async def on_message(msg: ChatMessage) -> None:
        if msg.text == "/cancelar":
            await gate.wait()  # slow: the next update of the chat must wait for it
        seen.append(f"{msg.chat_id}:{msg.text}")

    handler = UpdateHandler(on_message)
    tasks = [
        asyncio.create_task(handler.handle(update("/cancelar", update_id=1, chat=5))),
        asyncio.create_task(handler.handle(update("/confirmar", update_id=2, chat=5))),
        asyncio.create_task(handler.handle(update("/estado", update_id=3, chat=6))),
        asyncio.create_task(handler.handle(update("/cancelar", update_id=1, chat=5))),
    ]
    await asyncio.sleep(0.01)
    assert seen == ["6:/estado"]
    gate.set()
    await asyncio.gather(*tasks)
    assert seen == ["6:/estado", "5:/cancelar", "5:/confirmar"]
