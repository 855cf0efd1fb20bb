"""The read-model writes of the restore's reconciliation, each idempotent: re-insert a
ticket row its workflow created, set a status the workflow reached without a record,
give a called ticket's advisor their slot back, and move the number counters past every
number issued. Transitions themselves are replayed through db.lifecycle, the same writes
the ticket activities make, so nothing here duplicates the projection rules.

Statuses are bound parameters (db/statuses.py); event ids are derived from the ticket,
so a retried reconciliation writes each event once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.tickets import created_event_id
from domain.contracts import NewTicket, TicketView, ticket_workflow_id
from domain.numbering import business_day, sequence_of
from domain.states import ACTIVE_STATUSES, AdvisorStatus

_RECONCILE_NAMESPACE = uuid.UUID("0b6b4f61-51f4-4d4c-9d0e-4b0f8f0c7e21")
#: ticket_event.action of a status the workflow reached but never recorded.
RECONCILE_ACTION = "RECONCILE"
_ACTIVE = [s.value for s in ACTIVE_STATUSES]


@dataclass(frozen=True)
class Branch:
    id: int
    time_zone: str


@dataclass(frozen=True)
class Row:
    status: str
    queue: str
    advisor_id: int | None
    business_day: date
    events: int


async def branch_named(engine: AsyncEngine, name: str) -> Branch | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT id, time_zone FROM branch WHERE lower(name) = lower(:n)"),
                {"n": name},
            )
        ).first()
    return None if row is None else Branch(row.id, row.time_zone)


async def ticket_row(engine: AsyncEngine, reference: uuid.UUID) -> Row | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT status, queue, advisor_id, business_day,"
                    " (SELECT count(*) FROM ticket_event e WHERE e.ticket_reference = t.reference)"
                    " AS events FROM ticket t WHERE reference = :r"
                ),
                {"r": reference},
            )
        ).first()
    if row is None:
        return None
    return Row(row.status, row.queue, row.advisor_id, row.business_day, int(row.events))


def why_refused(err: IntegrityError) -> str:
    """A constraint violation in words an operator can act on."""
    message = str(err.orig)
    if "ux_ticket_one_active_per_person" in message:
        return "the person has another active ticket at the branch in the restored database"
    if "ux_ticket_number_per_day" in message:
        return "its number is held by another ticket of that day in the restored database"
    if "advisor" in message:
        return "its advisor is not in the restored database"
    return f"refused by the database: {message.splitlines()[0][:200]}"


_INSERT = (
    "WITH ins AS (INSERT INTO ticket (reference, branch_id, queue, number, sequence,"
    " business_day, status, national_id_hash, national_id_masked, phone_masked,"
    " telegram_chat_id, language, workflow_id, arrived_at, created_at, updated_at, expires_at,"
    " created_position) VALUES (:r, :b, :q, :n, :s, :d, :status, :h, :m, :pm, :chat, :lang,"
    " :wf, :at, :at, :at, :exp, :pos) ON CONFLICT (reference) DO NOTHING RETURNING reference),"
    " ev AS (INSERT INTO ticket_event (event_id, ticket_reference, at, action, from_status,"
    " to_status, actor, reason) SELECT :e, reference, :at, 'CREATE', NULL, :status,"
    " 'customer', NULL FROM ins ON CONFLICT (event_id) DO NOTHING)"
    " SELECT count(*) FROM ins"
)


async def insert_ticket(
    engine: AsyncEngine, new: NewTicket, ticket: TicketView, branch: Branch
) -> bool:
    """The row and creation event as the create activity wrote them; True when inserted.
    Raises IntegrityError when the restored database holds a conflicting ticket."""
    async with engine.begin() as conn:
        inserted = (
            await conn.execute(
                text(_INSERT),
                {
                    "r": new.reference,
                    "b": branch.id,
                    "q": new.queue,
                    "n": ticket.number,
                    "s": sequence_of(ticket.number),
                    "d": business_day(ticket.created_at, branch.time_zone),
                    "status": ticket.status,
                    "h": new.national_id_hash,
                    "m": new.national_id_masked,
                    "pm": new.phone_masked,
                    "chat": new.telegram_chat_id,
                    "lang": new.language,
                    "wf": ticket_workflow_id(new.reference),
                    "at": ticket.created_at,
                    "exp": ticket.expires_at,
                    "pos": ticket.position,
                    "e": created_event_id(new.reference),
                },
            )
        ).scalar_one()
    return bool(inserted)


async def set_status(
    engine: AsyncEngine, reference: uuid.UUID, before: str, after: str, at: datetime
) -> None:
    """Record a status the workflow holds but never wrote (its record was refused while
    the row was missing); a status past service frees the advisor slot it held."""
    event_id = uuid.uuid5(_RECONCILE_NAMESPACE, f"{reference}:{before}:{after}")
    params: dict[str, Any] = {"r": reference, "st": after, "before": before, "at": at}
    async with engine.begin() as conn:
        fresh = (
            await conn.execute(
                text(
                    "INSERT INTO ticket_event (event_id, ticket_reference, at, action,"
                    " from_status, to_status, actor, reason) VALUES (:e, :r, :at, :a, :before,"
                    " :st, 'system:restore', 'reconciled with the ticket workflow after a"
                    " restore') ON CONFLICT (event_id) DO NOTHING RETURNING id"
                ),
                {**params, "e": event_id, "a": RECONCILE_ACTION},
            )
        ).first()
        if fresh is None:
            return
        await conn.execute(
            text("UPDATE ticket SET status = :st, updated_at = :at WHERE reference = :r"), params
        )
        if after not in _ACTIVE:
            await conn.execute(
                text(
                    "UPDATE advisor SET current_ticket = NULL, idle_since = :at,"
                    " status = CASE WHEN status = :busy THEN :available ELSE status END"
                    " WHERE current_ticket = :r"
                ),
                {
                    **params,
                    "busy": AdvisorStatus.BUSY.value,
                    "available": AdvisorStatus.AVAILABLE.value,
                },
            )


async def hold_for_advisor(
    engine: AsyncEngine, reference: uuid.UUID, advisor_id: int, at: datetime
) -> str | None:
    """Give a called or in-service ticket back its advisor's one slot (BUSY), as the
    reservation did; a reason when that advisor holds another ticket."""
    async with engine.begin() as conn:
        held = (
            await conn.execute(
                text("SELECT current_ticket FROM advisor WHERE id = :a FOR UPDATE"),
                {"a": advisor_id},
            )
        ).first()
        if held is None:
            return f"its advisor {advisor_id} is not in the restored database"
        if held.current_ticket == reference:
            return None
        if held.current_ticket is not None:
            return f"its advisor {advisor_id} holds another ticket in the restored database"
        await conn.execute(
            text(
                "UPDATE advisor SET current_ticket = :r, status = :busy, status_since = :at"
                " WHERE id = :a AND current_ticket IS NULL"
            ),
            {"r": reference, "a": advisor_id, "at": at, "busy": AdvisorStatus.BUSY.value},
        )
    return None


async def move_counter(
    engine: AsyncEngine, branch_id: int, queue: str, day: date, issued: int
) -> tuple[int, int] | None:
    """Move the day's counter past `issued` (never back); (before, after) when it moved."""
    async with engine.begin() as conn:
        before = (
            await conn.execute(
                text(
                    "SELECT last_sequence FROM ticket_counter WHERE branch_id = :b AND queue = :q"
                    " AND business_day = :d FOR UPDATE"
                ),
                {"b": branch_id, "q": queue, "d": day},
            )
        ).scalar_one_or_none()
        if before is not None and before >= issued:
            return None
        await conn.execute(
            text(
                "INSERT INTO ticket_counter (branch_id, queue, business_day, last_sequence)"
                " VALUES (:b, :q, :d, :s) ON CONFLICT (branch_id, queue, business_day)"
                " DO UPDATE SET last_sequence = GREATEST(ticket_counter.last_sequence,"
                " EXCLUDED.last_sequence)"
            ),
            {"b": branch_id, "q": queue, "d": day, "s": issued},
        )
    return (int(before or 0), issued)
