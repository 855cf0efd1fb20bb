"""The `mensaje` table and the delivery counters, written by the worker and the bridge.

A message's state moves PENDING -> SENT or FAILED once; the row is the
de-duplication record that stops a redelivered broker message being sent twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.metrics import bump, observe
from domain.states import MessageState

_PENDING = MessageState.PENDING.value
_SENT = MessageState.SENT.value
_FAILED = MessageState.FAILED.value

MESSAGE_NAMESPACE = uuid.UUID("0b8f6c1e-3f0a-4c65-8d4e-5a2b9c7e1f33")

SENT_COUNTER = "telegram_messages_sent_total"
ERROR_COUNTER = "telegram_errors_total"
FAILED_COUNTER = "telegram_messages_failed_total"
LATENCY = "telegram_delivery_seconds"


def message_id_for(ticket_reference: uuid.UUID, kind: str) -> uuid.UUID:
    """Deterministic id: the same ticket and type always name the same message."""
    return uuid.uuid5(MESSAGE_NAMESPACE, f"{ticket_reference}:{kind}")


@dataclass(frozen=True)
class MessageRow:
    id: uuid.UUID
    state: str
    text: str
    chat_id: int
    attempts: int


async def ensure_pending(
    engine: AsyncEngine,
    *,
    ticket_reference: uuid.UUID,
    kind: str,
    chat_id: int,
    body: str,
    scheduled_at: datetime,
) -> MessageRow:
    """Insert the message once; later calls return the stored row (text included) untouched."""
    mid = message_id_for(ticket_reference, kind)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO mensaje (id, ticket_reference, type, channel, chat_id, state, text,"
                " parse_mode, attempts, scheduled_at) VALUES (:id, :t, :k, 'TELEGRAM', :c,"
                " :pending, :x, 'HTML', 0, :s) ON CONFLICT DO NOTHING"
            ),
            {
                "pending": _PENDING,
                "id": mid,
                "t": ticket_reference,
                "k": kind,
                "c": chat_id,
                "x": body,
                "s": scheduled_at,
            },
        )
        row = (
            await conn.execute(
                text("SELECT id, state, text, chat_id, attempts FROM mensaje WHERE id = :id"),
                {"id": mid},
            )
        ).one()
    return MessageRow(row.id, row.state, row.text, row.chat_id, row.attempts)


async def state_of(engine: AsyncEngine, message_id: uuid.UUID) -> str | None:
    async with engine.connect() as conn:
        value = (
            await conn.execute(text("SELECT state FROM mensaje WHERE id = :id"), {"id": message_id})
        ).scalar_one_or_none()
    return None if value is None else str(value)


async def mark_sent(
    engine: AsyncEngine,
    message_id: uuid.UUID,
    kind: str,
    telegram_message_id: int,
    sent_at: datetime,
    latency_seconds: float,
) -> bool:
    """Record a delivery and count it, in one transaction; False if it was already final."""
    async with engine.begin() as conn:
        updated = (
            await conn.execute(
                text(
                    "UPDATE mensaje SET state = :sent, sent_at = :at, telegram_message_id = :tm,"
                    " attempts = attempts + 1, last_error = NULL, claim_expires_at = NULL"
                    " WHERE id = :id AND state = :pending RETURNING id"
                ),
                {
                    "id": message_id,
                    "at": sent_at,
                    "tm": telegram_message_id,
                    "sent": _SENT,
                    "pending": _PENDING,
                },
            )
        ).first()
        if updated is None:
            return False
        await bump(conn, [(SENT_COUNTER, f"type={kind}", 1.0)])
        await observe(conn, LATENCY, f"type={kind}", max(latency_seconds, 0.0))
    return True


async def mark_attempt_failed(
    engine: AsyncEngine, message_id: uuid.UUID, reason: str, error: str, *, final: bool
) -> None:
    """Count a failed attempt; a final one moves the message to FAILED."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE mensaje SET attempts = attempts + 1, last_error = :e,"
                " state = CASE WHEN :final THEN :failed ELSE state END"
                " WHERE id = :id AND state = :pending"
            ),
            {
                "id": message_id,
                "e": error[:500],
                "final": final,
                "failed": _FAILED,
                "pending": _PENDING,
            },
        )
        await bump(conn, [(ERROR_COUNTER, f"reason={reason}", 1.0)])


async def give_up(engine: AsyncEngine, message_id: uuid.UUID, kind: str, error: str) -> bool:
    """Retries exhausted: the message is FAILED for good (counted, alerted on)."""
    async with engine.begin() as conn:
        updated = (
            await conn.execute(
                text(
                    "UPDATE mensaje SET state = :failed, last_error = :e"
                    " WHERE id = :id AND state = :pending RETURNING id"
                ),
                {"id": message_id, "e": error[:500], "failed": _FAILED, "pending": _PENDING},
            )
        ).first()
        if updated is not None:
            await bump(conn, [(FAILED_COUNTER, f"type={kind}", 1.0)])
    return updated is not None
