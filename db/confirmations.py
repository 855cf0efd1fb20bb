"""`cancel_confirmation`: a /cancelar waiting for its /confirmar, visible to every bridge."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class PendingCancel:
    reference: uuid.UUID
    number: str
    language: str
    expires_at: datetime


async def ask(engine: AsyncEngine, chat_id: int, pending: PendingCancel, now: datetime) -> None:
    """Store the chat's request (a newer one replaces it); forget expired ones meanwhile."""
    async with engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM cancel_confirmation WHERE expires_at <= :n"), {"n": now}
        )
        await conn.execute(
            text(
                "INSERT INTO cancel_confirmation"
                " (chat_id, ticket_reference, number, language, expires_at)"
                " VALUES (:c, :r, :n, :l, :e) ON CONFLICT (chat_id) DO UPDATE SET"
                " ticket_reference = EXCLUDED.ticket_reference, number = EXCLUDED.number,"
                " language = EXCLUDED.language, expires_at = EXCLUDED.expires_at"
            ),
            {
                "c": chat_id,
                "r": pending.reference,
                "n": pending.number,
                "l": pending.language,
                "e": pending.expires_at,
            },
        )


async def take(engine: AsyncEngine, chat_id: int) -> PendingCancel | None:
    """Remove and return the chat's request (expired or not): a /confirmar uses it once."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "DELETE FROM cancel_confirmation WHERE chat_id = :c"
                    " RETURNING ticket_reference, number, language, expires_at"
                ),
                {"c": chat_id},
            )
        ).first()
    if row is None:
        return None
    return PendingCancel(row.ticket_reference, row.number, row.language, row.expires_at)
