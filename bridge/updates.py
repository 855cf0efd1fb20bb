"""Bot API updates: what a customer wrote, and the per-chat, in-order handling of it.

Polling and the webhook queue both end in `UpdateHandler.handle`, so an update
is handled the same way whichever way it came. Updates of one chat are handled
one at a time in arrival order (a /confirmar must follow its /cancelar);
different chats proceed concurrently. A short memory of update ids drops the
duplicates a webhook may deliver to this bridge; `take` (the shared `bot_update`
table) drops those that reach another bridge or a new polling leader.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("ticketero.bridge")
SEEN_UPDATES = 1024


@dataclass(frozen=True)
class ChatMessage:
    """A text (possibly empty) a customer sent to the bot in a private chat."""

    update_id: int
    chat_id: int
    text: str
    language: str
    #: chat:message_id:date, which tells a repeat from a new update reusing the id.
    fingerprint: str = field(default="", compare=False)


@dataclass(frozen=True)
class Command:
    name: str
    argument: str
    for_us: bool


def parse_update(update: Mapping[str, Any]) -> ChatMessage | None:
    """The private-chat message in `update`, or None for anything else (groups, edits...)."""
    update_id = update.get("update_id")
    message = update.get("message")
    if not isinstance(update_id, int) or not isinstance(message, dict):
        return None
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return None
    chat_id = chat.get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        return None
    text = message.get("text")
    sender = message.get("from")
    code = sender.get("language_code") if isinstance(sender, dict) else None
    language = "en" if isinstance(code, str) and code.lower().startswith("en") else "es"
    fingerprint = f"{chat_id}:{message.get('message_id')}:{message.get('date')}"
    return ChatMessage(
        update_id, chat_id, text if isinstance(text, str) else "", language, fingerprint
    )


def parse_command(text: str, bot_username: str) -> Command | None:
    """`/name[@bot] argument` → Command; None when the text is not a command."""
    parts = text.strip().split(maxsplit=1)
    if not parts or not parts[0].startswith("/") or len(parts[0]) == 1:
        return None
    name, _, target = parts[0][1:].partition("@")
    for_us = not target or target.lower() == bot_username.lower()
    return Command(name.lower(), parts[1].strip() if len(parts) > 1 else "", for_us)


class UpdateHandler:
    """Serialises updates per chat and drops repeated update ids."""

    def __init__(
        self,
        on_message: Callable[[ChatMessage], Awaitable[None]],
        take: Callable[[ChatMessage], Awaitable[bool]] | None = None,
    ) -> None:
        self._on_message = on_message
        self._take = take
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._seen: OrderedDict[int, None] = OrderedDict()

    async def handle(self, update: Mapping[str, Any]) -> None:
        message = parse_update(update)
        if message is None or self._repeated(message.update_id):
            return
        chat = message.chat_id
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with lock:
                if self._take is not None and not await self._take(message):
                    log.info("update %s already taken by a bridge", message.update_id)
                    return
                await self._on_message(message)
        finally:
            self._waiting[chat] -= 1
            if self._waiting[chat] == 0:
                del self._waiting[chat]
                del self._locks[chat]

    def _repeated(self, update_id: int) -> bool:
        if update_id in self._seen:
            return True
        self._seen[update_id] = None
        if len(self._seen) > SEEN_UPDATES:
            self._seen.popitem(last=False)
        return False
