"""In-memory world of the sandbox: chats, messages, pending updates, faults.

Pure data plus asyncio signalling and no I/O, so HTTP handlers, the webhook
worker and unit tests share one consistent model. Every mutation runs without
awaiting, which makes it atomic on the event loop; waiters use an Event that
is swapped on each change (no sleep-polling, no lost wake-ups).

Long on purpose: one consistent model of the fake Telegram world is easier to trust than
several modules sharing its locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

JsonDict = dict[str, Any]
FaultKind = Literal["429", "500", "403", "timeout"]

#: First chat id handed out by `allocate_chat_id` (looks like a real user id).
FIRST_ALLOCATED_CHAT_ID = 100_000_001
DEFAULT_FIRST_NAME = "Cliente"
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class PollConflictError(Exception):
    """getUpdates must answer 409 (webhook active or superseded by another poll)."""


@dataclass
class ChatMessage:
    """One message in a chat, in either direction."""

    message_id: int
    chat_id: int
    text: str
    from_bot: bool
    date: int
    received_at: str
    parse_mode: str | None = None

    def as_json(self) -> JsonDict:
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "text": self.text,
            "parse_mode": self.parse_mode,
            "date": self.date,
            "received_at": self.received_at,
        }


@dataclass
class Chat:
    """A private chat between the bot and one simulated customer."""

    id: int
    first_name: str
    messages: list[ChatMessage] = field(default_factory=list)
    next_message_id: int = 1
    type: str = "private"

    @property
    def bot_messages(self) -> list[ChatMessage]:
        return [m for m in self.messages if m.from_bot]

    def as_json(self) -> JsonDict:
        bot = self.bot_messages
        return {
            "id": self.id,
            "type": self.type,
            "first_name": self.first_name,
            "message_count": len(bot),
            "user_message_count": len(self.messages) - len(bot),
            "last_message": bot[-1].as_json() if bot else None,
        }


@dataclass
class Fault:
    """The next `remaining` calls of `method` fail with `kind`."""

    method: str
    kind: FaultKind
    remaining: int = 1
    retry_after: int = 1
    delay_seconds: float = 30.0

    def as_json(self) -> JsonDict:
        return {
            "method": self.method,
            "kind": self.kind,
            "count": self.remaining,
            "retry_after": self.retry_after,
            "delay_seconds": self.delay_seconds,
        }


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class SandboxState:
    """Everything the sandbox knows; one instance per app."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        # Update ids and allocated chat ids survive `reset()`: a bot polling
        # with offset=last+1 must keep seeing new updates across test resets.
        self._next_update_id = 1
        self._next_chat_id = FIRST_ALLOCATED_CHAT_ID
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self.waiting_pollers = 0
        self._clear()

    def _clear(self) -> None:
        self.chats: dict[int, Chat] = {}
        self.updates: list[JsonDict] = []
        self.faults: list[Fault] = []
        self.webhook: Webhook | None = None
        self.calls: dict[str, Counter[str]] = {}
        self._outage_until: float | None = None

    def reset(self) -> None:
        self._clear()
        self._notify()

    # -- signalling -------------------------------------------------------
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, max_wait: float | None) -> None:
        """Return on the next state change or after `max_wait` seconds."""
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max_wait)

    # -- chats and messages -------------------------------------------------
    def _stamp(self) -> tuple[int, str]:
        now = self._clock()
        return int(now), datetime.fromtimestamp(now, UTC).isoformat(timespec="microseconds")

    def ensure_chat(self, chat_id: int, first_name: str | None = None) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = Chat(id=chat_id, first_name=first_name or DEFAULT_FIRST_NAME)
            self.chats[chat_id] = chat
        elif first_name:
            chat.first_name = first_name
        return chat

    def allocate_chat_id(self) -> int:
        while self._next_chat_id in self.chats:
            self._next_chat_id += 1
        chat_id = self._next_chat_id
        self._next_chat_id += 1
        return chat_id

    def _append(
        self, chat: Chat, text: str, *, from_bot: bool, parse_mode: str | None
    ) -> ChatMessage:
        date, received_at = self._stamp()
        message = ChatMessage(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            text=text,
            from_bot=from_bot,
            date=date,
            received_at=received_at,
            parse_mode=parse_mode,
        )
        chat.next_message_id += 1
        chat.messages.append(message)
        self._notify()
        return message

    def record_bot_message(self, chat_id: int, text: str, parse_mode: str | None) -> ChatMessage:
        """A sendMessage the bot made that reached the customer's phone."""
        return self._append(self.ensure_chat(chat_id), text, from_bot=True, parse_mode=parse_mode)

    def bot_messages(self, chat_id: int, since_message_id: int = 0) -> list[ChatMessage] | None:
        chat = self.chats.get(chat_id)
        if chat is None:
            return None
        return [m for m in chat.bot_messages if m.message_id > since_message_id]

    def user_message(
        self, chat_id: int, text: str, first_name: str | None = None, language_code: str = "es"
    ) -> JsonDict:
        """The customer typed `text`: record it and queue a Telegram-shaped update."""
        chat = self.ensure_chat(chat_id, first_name)
        message = self._append(chat, text, from_bot=False, parse_mode=None)
        payload: JsonDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": {"id": chat.id, "type": chat.type, "first_name": chat.first_name},
            "from": {
                "id": chat.id,
                "is_bot": False,
                "first_name": chat.first_name,
                "language_code": language_code,
            },
            "text": text,
        }
        command = _COMMAND_RE.match(text)
        if command:
            length = len(command.group(0).encode("utf-16-le")) // 2
            payload["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        update: JsonDict = {"update_id": self._next_update_id, "message": payload}
        self._next_update_id += 1
        self.updates.append(update)
        self._notify()
        return update

    # -- getUpdates -----------------------------------------------------------
    def take_updates(self, offset: int | None, limit: int) -> list[JsonDict]:
        """Telegram semantics: `offset` confirms (drops) every earlier update."""
        if offset is not None and offset < 0:
            self.updates = self.updates[offset:]
        elif offset is not None:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return self.updates[:limit]

    async def poll_updates(
        self, offset: int | None, limit: int, wait_seconds: float
    ) -> list[JsonDict]:
        """Long polling: wait up to `wait_seconds` for updates, like Telegram.

        A newer poll supersedes this one (Telegram answers 409 to the older),
        which makes two bot instances polling one token visible in dev.
        """
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        self.waiting_pollers += 1
        try:
            while True:
                if self.webhook is not None:
                    raise PollConflictError(
                        "Conflict: can't use getUpdates method while webhook is active; "
                        "use deleteWebhook to delete the webhook first"
                    )
                if generation != self._poll_generation:
                    raise PollConflictError(
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running"
                    )
                updates = self.take_updates(offset, limit)
                remaining = deadline - loop.time()
                if updates or remaining <= 0:
                    return updates
                await self.wait_changed(remaining)
        finally:
            self.waiting_pollers -= 1

    # -- webhook ----------------------------------------------------------
    def set_webhook(self, url: str, secret_token: str | None, drop_pending: bool) -> None:
        self.webhook = Webhook(url=url, secret_token=secret_token)
        if drop_pending:
            self.updates = []
        self._notify()

    def delete_webhook(self, drop_pending: bool) -> bool:
        existed = self.webhook is not None
        self.webhook = None
        if drop_pending:
            self.updates = []
        self._notify()
        return existed

    def webhook_info(self) -> JsonDict:
        info: JsonDict = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook is not None:
            info["max_connections"] = 40
            if self.webhook.last_error_date is not None:
                info["last_error_date"] = self.webhook.last_error_date
                info["last_error_message"] = self.webhook.last_error_message
        return info

    def next_webhook_delivery(self) -> tuple[Webhook, JsonDict] | None:
        """The oldest pending update and where to push it, if a webhook is set."""
        if self.webhook is None or not self.updates:
            return None
        return self.webhook, self.updates[0]

    def ack_update(self, update_id: int) -> None:
        """Drop one update (delivered, or given up on)."""
        self.updates = [u for u in self.updates if u["update_id"] != update_id]
        self._notify()

    def webhook_failed(self, webhook: Webhook, message: str) -> None:
        webhook.last_error_date = int(self._clock())
        webhook.last_error_message = message

    # -- faults, outage and call counters ---------------------------------------
    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, method: str) -> Fault | None:
        """Consume one use of the first pending fault planned for `method`."""
        for fault in self.faults:
            if fault.method == method:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def start_outage(self, seconds: float) -> None:
        self._outage_until = time.monotonic() + seconds

    def end_outage(self) -> None:
        self._outage_until = None

    def outage_remaining(self) -> float:
        if self._outage_until is None:
            return 0.0
        remaining = self._outage_until - time.monotonic()
        if remaining <= 0:
            self._outage_until = None
            return 0.0
        return remaining

    def count_call(self, method: str, outcome: str) -> None:
        counter = self.calls.setdefault(method, Counter())
        counter[outcome] += 1
        counter["total"] += 1

    def calls_json(self) -> dict[str, dict[str, int]]:
        return {method: dict(counter) for method, counter in self.calls.items()}
