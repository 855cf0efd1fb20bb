"""The bot's conversation: /start links a ticket to one chat, /estado, /cancelar, help.

Linking and cancelling go through the ticket's workflow (signal `link_chat`,
update `transition`), which then sends the customer's message itself; the bot
only answers what the workflow will not (status, confirmation prompts, refusals).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from bridge.confirmations import Confirmations
from bridge.retry import retrying
from bridge.updates import ChatMessage, parse_command
from db.chat_languages import save_chat_language
from db.chats import (
    ChatTicket,
    active_ticket_for_chat,
    recent_ticket_for_chat,
    ticket_with_language,
)
from db.statuses import ACTIVE, WAITING
from domain.contracts import (
    ERR_INVALID_TRANSITION,
    LINK_CHAT_SIGNAL,
    TRANSITION_UPDATE,
    LinkChat,
    TicketState,
    Transition,
    ticket_workflow_id,
)
from domain.deeplink import decode_start_payload
from domain.states import TicketAction
from messaging.texts import render

log = logging.getLogger("ticketero.bridge")
T = TypeVar("T")
Reply = Callable[[int, str], Awaitable[None]]
#: How long a command keeps retrying PostgreSQL or Temporal before saying "try later".
GIVE_UP_SECONDS = 20.0
ALIASES = {
    "start": "start",
    "estado": "status",
    "status": "status",
    "cancelar": "cancel",
    "cancel": "cancel",
    "confirmar": "confirm",
    "confirm": "confirm",
}
_GONE = (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)


class BotCommands:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        temporal: Client,
        reply: Reply,
        link_key: bytes,
        bot_username: str,
        confirmations: Confirmations | None = None,
    ) -> None:
        self._engine = engine
        self._temporal = temporal
        self._reply = reply
        self._key = link_key
        self._bot = bot_username
        self.confirmations = confirmations or Confirmations(engine)

    async def on_message(self, msg: ChatMessage) -> None:
        command = parse_command(msg.text, self._bot)
        if command is not None and not command.for_us:
            return  # addressed to another bot
        action = ALIASES.get(command.name) if command is not None else None
        try:
            if action == "start" and command is not None:
                await self._start(msg, command.argument)
            elif action == "status":
                await self._status(msg)
            elif action == "cancel":
                await self._cancel(msg)
            elif action == "confirm":
                await self._confirm(msg)
            else:
                await self._say(msg.chat_id, "bot_help", msg.language)
        except Exception as err:
            log.warning("bot command failed: %s", type(err).__name__)
            await self._say(msg.chat_id, "bot_unavailable", msg.language)

    # -- commands ------------------------------------------------------------------

    async def _start(self, msg: ChatMessage, payload: str) -> None:
        # The chat's language, kept for every ticket it follows (before any link renders).
        await self._call(lambda: save_chat_language(self._engine, msg.chat_id, msg.language))
        reference = decode_start_payload(payload, self._key) if payload else None
        if reference is None:
            await self._say(msg.chat_id, "bot_help", msg.language)
            return
        ticket = await self._read(lambda conn: ticket_with_language(conn, reference))
        if ticket is None or ticket.view.status not in ACTIVE:
            await self._inactive(msg, ticket)
            return
        handle = self._temporal.get_workflow_handle(ticket_workflow_id(reference))
        if ticket.view.telegram_chat_id == msg.chat_id:
            # Already linked (e.g. the chat given at creation): nothing new comes, but the
            # chat's language is the one its messages use from now on.
            if msg.language != ticket.language:
                relink = LinkChat(chat_id=msg.chat_id, language=msg.language)
                with contextlib.suppress(RPCError):
                    await self._call(lambda: handle.signal(LINK_CHAT_SIGNAL, relink))
                ticket = ChatTicket(view=ticket.view, language=msg.language)
            await self._say_status(msg.chat_id, ticket)
            return
        if ticket.view.telegram_chat_id is not None:
            # Followed from another chat: never moved silently (the workflow refuses too).
            await self._say(
                msg.chat_id, "bot_already_linked", msg.language, number=ticket.view.number
            )
            return
        request = LinkChat(chat_id=msg.chat_id, language=msg.language)
        try:
            await self._call(lambda: handle.signal(LINK_CHAT_SIGNAL, request))
        except RPCError as err:
            if err.status not in _GONE:
                raise
            await self._inactive(msg, ticket)
            return

    async def _status(self, msg: ChatMessage) -> None:
        ticket = await self._read(lambda conn: active_ticket_for_chat(conn, msg.chat_id))
        if ticket is not None:
            await self._say_status(msg.chat_id, ticket)
            return
        ended = await self._read(lambda conn: recent_ticket_for_chat(conn, msg.chat_id))
        if ended is None:
            await self._say(msg.chat_id, "bot_no_ticket", msg.language)
        else:  # ended today: say how (no-show, cancelled, served...), not "no ticket"
            await self._inactive(msg, ended)

    async def _cancel(self, msg: ChatMessage) -> None:
        ticket = await self._read(lambda conn: active_ticket_for_chat(conn, msg.chat_id))
        if ticket is None:
            await self._say(msg.chat_id, "bot_no_ticket", msg.language)
            return
        view = ticket.view
        if view.status not in WAITING:
            await self._refused(msg.chat_id, ticket.language, view.number, view.status)
            return
        await self._call(
            lambda: self.confirmations.ask(
                msg.chat_id, view.reference, view.number, ticket.language
            )
        )
        minutes = round(self.confirmations.ttl / 60)
        await self._say(
            msg.chat_id, "bot_cancel_confirm", ticket.language, number=view.number, minutes=minutes
        )

    async def _confirm(self, msg: ChatMessage) -> None:
        pending = await self._call(lambda: self.confirmations.take(msg.chat_id))
        if pending is None:
            await self._say(msg.chat_id, "bot_nothing_to_confirm", msg.language)
            return
        handle = self._temporal.get_workflow_handle(ticket_workflow_id(pending.reference))
        request = Transition(
            action=TicketAction.CANCEL, actor="customer:telegram", reason="via Telegram"
        )
        try:
            # One id per ticket: a retried /confirmar (or our own retry) is the same CANCEL.
            await self._call(
                lambda: handle.execute_update(
                    TRANSITION_UPDATE,
                    request,
                    id=f"cancel-telegram-{pending.reference}",
                    result_type=TicketState,
                )
            )
        except WorkflowUpdateFailedError as err:
            status = await self._refusal_status(err.cause, pending.reference)
            await self._refused(msg.chat_id, pending.language, pending.number, status)
        except RPCError as err:
            if err.status not in _GONE:
                raise
            status = await self._refusal_status(None, pending.reference)
            await self._refused(msg.chat_id, pending.language, pending.number, status)
        # Accepted: the workflow sends the CANCELLED message itself.

    # -- helpers -------------------------------------------------------------------

    async def _refusal_status(self, cause: BaseException | None, reference: uuid.UUID) -> str:
        invalid = isinstance(cause, ApplicationError) and cause.type == ERR_INVALID_TRANSITION
        if invalid and isinstance(cause, ApplicationError) and cause.details:
            return str(cause.details[0])
        ticket = await self._read(lambda conn: ticket_with_language(conn, reference))
        return ticket.view.status if ticket is not None else ""

    async def _inactive(self, msg: ChatMessage, ticket: ChatTicket | None) -> None:
        number = ticket.view.number if ticket is not None else ""
        status = ticket.view.status if ticket is not None else ""
        await self._say(msg.chat_id, "bot_inactive", msg.language, number=number, status=status)

    async def _refused(self, chat_id: int, language: str, number: str, status: str) -> None:
        await self._say(chat_id, "bot_cancel_refused", language, number=number, status=status)

    async def _say_status(self, chat_id: int, ticket: ChatTicket) -> None:
        view = ticket.view
        wait = view.estimated_wait
        await self._say(
            chat_id,
            "bot_status",
            ticket.language,
            number=view.number,
            queue=view.queue,
            branch=view.branch_office,
            status=view.status,
            position=view.position or 0,
            ahead=view.tickets_ahead or 0,
            minutes=wait.minutes if wait else 0,
            low=wait.low if wait else 0,
            high=wait.high if wait else 0,
            desk=str(view.desk) if view.desk is not None else "",
        )

    async def _say(self, chat_id: int, kind: str, language: str, **values: Any) -> None:
        await self._reply(chat_id, render(kind, language, **values))

    async def _read(self, query: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async def run() -> T:
            async with self._engine.connect() as conn:
                return await query(conn)

        return await self._call(run)

    @staticmethod
    async def _call(op: Callable[[], Awaitable[T]]) -> T:
        return await retrying(op, give_up_after=GIVE_UP_SECONDS)
