"""What the Telegram bot reads about a chat: its active ticket, and its failed replies.

A chat is linked to a ticket by `ticket.telegram_chat_id` (set at creation or
by `/start`); a person may hold tickets at several branches, so the most
recent active one answers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.chat_languages import chat_language
from db.messages import ERROR_COUNTER
from db.metrics import bump
from db.statuses import ACTIVE
from db.tickets import get_ticket
from domain.contracts import TicketView


@dataclass(frozen=True)
class ChatTicket:
    view: TicketView
    language: str


_ACTIVE_FOR_CHAT = text(
    "SELECT reference FROM ticket WHERE telegram_chat_id = :c AND status IN :active"
    " ORDER BY created_at DESC LIMIT 1"
).bindparams(bindparam("active", expanding=True))


async def active_ticket_for_chat(conn: AsyncConnection, chat_id: int) -> ChatTicket | None:
    """The chat's most recent active ticket, with the language its messages use."""
    reference: uuid.UUID | None = (
        await conn.execute(_ACTIVE_FOR_CHAT, {"c": chat_id, "active": ACTIVE})
    ).scalar_one_or_none()
    if reference is None:
        return None
    found = await ticket_with_language(conn, reference)
    saved = await chat_language(conn, chat_id)
    if found is None or saved is None:
        return found
    return ChatTicket(view=found.view, language=saved)  # the chat's own language wins


_LATEST_FOR_CHAT = text(
    "SELECT reference FROM ticket WHERE telegram_chat_id = :c"
    " AND created_at > now() - interval '18 hours' ORDER BY created_at DESC LIMIT 1"
)


async def recent_ticket_for_chat(conn: AsyncConnection, chat_id: int) -> ChatTicket | None:
    """The chat's latest ticket of the day (18 h covers any branch day), whatever its
    status: `/estado` after a ticket ended says how it ended instead of "no ticket"."""
    reference: uuid.UUID | None = (
        await conn.execute(_LATEST_FOR_CHAT, {"c": chat_id})
    ).scalar_one_or_none()
    if reference is None:
        return None
    return await ticket_with_language(conn, reference)


async def ticket_with_language(conn: AsyncConnection, reference: uuid.UUID) -> ChatTicket | None:
    view = await get_ticket(conn, reference)
    if view is None:
        return None
    query = text("SELECT language FROM ticket WHERE reference = :r")
    language = (await conn.execute(query, {"r": reference})).scalar_one()
    return ChatTicket(view=view, language=str(language))


async def count_reply_error(engine: AsyncEngine, reason: str) -> None:
    """A failed bot reply counts in `telegram_errors_total` like a failed notification."""
    async with engine.begin() as conn:
        await bump(conn, [(ERROR_COUNTER, f"reason={reason}", 1.0)])
