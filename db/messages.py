"""The `mensaje` table and the delivery counters, written by the worker and the bridge.

A message's state moves PENDING -> SENT or FAILED once; the row is the
de-duplication record that stops a redelivered broker message being sent twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MESSAGE_NAMESPACE = uuid.UUID("0b8f6c1e-3f0a-4c65-8d4e-5a2b9c7e1f33")

#: Upper bounds (seconds) of the created->delivered histogram buckets.
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
SENT_COUNTER = "telegram_messages_sent_total"
ERROR_COUNTER = "telegram_errors_total"
FAILED_COUNTER = "telegram_messages_failed_total"
LATENCY_BUCKET = "telegram_delivery_seconds_bucket"
LATENCY_SUM = "telegram_delivery_seconds_sum"
LATENCY_COUNT = "telegram_delivery_seconds_count"


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
                " 'PENDING', :x, 'HTML', 0, :s) ON CONFLICT DO NOTHING"
            ),
            {
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


def _bucket_label(seconds: float) -> str:
    for bound in DELIVERY_BUCKETS:
        if seconds <= bound:
            return repr(bound)
    return "+Inf"


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
                    "UPDATE mensaje SET state = 'SENT', sent_at = :at, telegram_message_id = :tm,"
                    " attempts = attempts + 1, last_error = NULL"
                    " WHERE id = :id AND state = 'PENDING' RETURNING id"
                ),
                {"id": message_id, "at": sent_at, "tm": telegram_message_id},
            )
        ).first()
        if updated is None:
            return False
        await _bump(
            conn,
            [
                (SENT_COUNTER, f"type={kind}", 1.0),
                (LATENCY_BUCKET, _bucket_label(latency_seconds), 1.0),
                (LATENCY_COUNT, "", 1.0),
                (LATENCY_SUM, "", max(latency_seconds, 0.0)),
            ],
        )
    return True


async def mark_attempt_failed(
    engine: AsyncEngine, message_id: uuid.UUID, reason: str, error: str, *, final: bool
) -> None:
    """Count a failed attempt; a final one moves the message to FAILED."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE mensaje SET attempts = attempts + 1, last_error = :e,"
                " state = CASE WHEN :final THEN 'FAILED' ELSE state END"
                " WHERE id = :id AND state = 'PENDING'"
            ),
            {"id": message_id, "e": error[:500], "final": final},
        )
        await _bump(conn, [(ERROR_COUNTER, f"reason={reason}", 1.0)])


async def give_up(engine: AsyncEngine, message_id: uuid.UUID, kind: str, error: str) -> bool:
    """Retries exhausted: the message is FAILED for good (counted, alerted on)."""
    async with engine.begin() as conn:
        updated = (
            await conn.execute(
                text(
                    "UPDATE mensaje SET state = 'FAILED', last_error = :e"
                    " WHERE id = :id AND state = 'PENDING' RETURNING id"
                ),
                {"id": message_id, "e": error[:500]},
            )
        ).first()
        if updated is not None:
            await _bump(conn, [(FAILED_COUNTER, f"type={kind}", 1.0)])
    return updated is not None


async def _bump(conn: AsyncConnection, rows: list[tuple[str, str, float]]) -> None:
    # Sorted keys: concurrent transactions lock counter rows in the same order (no deadlock).
    for name, label, amount in sorted(rows):
        await conn.execute(
            text(
                "INSERT INTO metric_counter (name, label, value) VALUES (:n, :l, :v)"
                " ON CONFLICT (name, label) DO UPDATE SET value = metric_counter.value + :v"
            ),
            {"n": name, "l": label, "v": amount},
        )


async def read_counters(engine: AsyncEngine) -> list[tuple[str, str, float]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT name, label, value FROM metric_counter"))).all()
    return [(r.name, r.label, float(r.value)) for r in rows]
