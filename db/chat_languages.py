"""The language each Telegram chat reads, kept across the tickets it follows.

Written by the bot on every /start (Telegram's `language_code` of that chat);
read when a customer message or a bot answer is rendered, so a chat that once
said it reads English keeps getting English on its next ticket, also on one
given its chat id at creation. A chat without a row uses its ticket's language.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

LANGUAGES = ("es", "en")

_SAVE = text(
    "INSERT INTO telegram_chat (chat_id, language) VALUES (:c, :lang)"
    " ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language, updated_at = now()"
    " WHERE telegram_chat.language IS DISTINCT FROM excluded.language"
)
_READ = text("SELECT language FROM telegram_chat WHERE chat_id = :c")


async def save_chat_language(engine: AsyncEngine, chat_id: int, language: str) -> None:
    """Remember the chat's language (es or en; anything else is ignored)."""
    if language not in LANGUAGES:
        return
    async with engine.begin() as conn:
        await conn.execute(_SAVE, {"c": chat_id, "lang": language})


async def chat_language(conn: AsyncConnection, chat_id: int) -> str | None:
    """The chat's saved language, None when it never said /start."""
    found = (await conn.execute(_READ, {"c": chat_id})).scalar_one_or_none()
    return str(found) if found in LANGUAGES else None
