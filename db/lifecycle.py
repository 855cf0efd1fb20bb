"""Writes one accepted ticket transition to the read model, idempotently.

The ticket workflow decides; this records: the ticket row, the audit event, the
advisor freed or kept, the measured service time, and the counters. A retried
activity finds its event id already recorded and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.metrics import bump, observe
from domain.contracts import AppliedTransition, LinkRecord, TransitionRecord
from domain.estimate import ServiceStats
from domain.states import AdvisorStatus, TicketAction, TicketStatus

# Actions after which the ticket no longer occupies its advisor.
_FREES_ADVISOR = {
    TicketAction.COMPLETE,
    TicketAction.NO_SHOW,
    TicketAction.TRANSFER,
    TicketAction.CANCEL,
    TicketAction.EXPIRE,
    TicketAction.REQUEUE,
}


class TicketGone(LookupError):
    """The ticket has no row (a restore from before it existed): nothing to record onto."""


_SET_BY_ACTION = {
    TicketAction.CALL: "called_at = :at, advisor_id = :adv, desk = :desk",
    TicketAction.RECALL: "called_at = :at, advisor_id = :adv, desk = coalesce(:desk, desk)",
    TicketAction.START: "service_started_at = :at",
    TicketAction.COMPLETE: "completed_at = :at",
    TicketAction.TRANSFER: (
        "queue = :tq, original_queue = coalesce(original_queue, queue),"
        " transfers = transfers + 1, advisor_id = NULL, desk = NULL, claimed_at = NULL,"
        " called_at = NULL, created_position = NULL"
    ),
    TicketAction.CANCEL: "advisor_id = NULL, claimed_at = NULL",
    TicketAction.REQUEUE: "advisor_id = NULL, desk = NULL, claimed_at = NULL, called_at = NULL",
}


async def apply_transition(engine: AsyncEngine, rec: TransitionRecord) -> AppliedTransition:
    action = TicketAction(rec.action)
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT t.branch_id, t.queue, t.status, t.advisor_id, t.arrived_at,"
                    " t.service_started_at, t.number, b.name AS branch_name FROM ticket t"
                    " JOIN branch b ON b.id = t.branch_id WHERE t.reference = :r FOR UPDATE OF t"
                ),
                {"r": rec.reference},
            )
        ).first()
        if row is None:
            raise TicketGone(str(rec.reference))
        fresh = (
            await conn.execute(
                text(
                    "INSERT INTO ticket_event (event_id, ticket_reference, at, action,"
                    " from_status, to_status, actor, reason, advisor_id, details)"
                    " VALUES (:e, :r, :at, :a, :f, :t, :actor, :reason, :adv,"
                    " CAST(:details AS jsonb)) ON CONFLICT (event_id) DO NOTHING RETURNING id"
                ),
                {
                    "e": rec.event_id,
                    "r": rec.reference,
                    "at": rec.at,
                    "a": action.value,
                    "f": rec.from_status,
                    "t": rec.to_status,
                    "actor": rec.actor[:100],
                    "reason": rec.reason,
                    "adv": rec.advisor_id,
                    "details": _details(rec),
                },
            )
        ).first() is not None
        queue = (
            rec.target_queue if action is TicketAction.TRANSFER and rec.target_queue else row.queue
        )
        freed = row.advisor_id if action in _FREES_ADVISOR else None
        if fresh:
            await _record(conn, rec, action, row, freed)
        no_show = (
            await conn.execute(
                text(
                    "SELECT no_show_seconds FROM branch_queue WHERE branch_id = :b AND queue = :q"
                ),
                {"b": row.branch_id, "q": queue},
            )
        ).scalar_one()
    changed = _queues_changed(action, row.queue, queue, rec.from_status)
    return AppliedTransition(
        branch_id=row.branch_id,
        branch_name=row.branch_name,
        number=row.number,
        queue=queue,
        freed_advisor_id=freed,
        queues_changed=changed,
        no_show_seconds=no_show,
    )


def _details(rec: TransitionRecord) -> str | None:
    details = {k: v for k, v in (("desk", rec.desk), ("targetQueue", rec.target_queue)) if v}
    return json.dumps(details) if details else None


def _queues_changed(action: TicketAction, old: str, new: str, from_status: str) -> list[str]:
    """Queues whose waiting line changed: positions there must be recomputed."""
    left_waiting = from_status in (TicketStatus.WAITING, TicketStatus.NOTIFIED)
    if action is TicketAction.TRANSFER:
        return sorted({old, new})
    if left_waiting and action in (TicketAction.CALL, TicketAction.CANCEL, TicketAction.EXPIRE):
        return [old]
    if action in _FREES_ADVISOR or action is TicketAction.CALL:
        return [old]  # an advisor came free or got busy: dispatch may change
    return []


async def _record(
    conn: AsyncConnection,
    rec: TransitionRecord,
    action: TicketAction,
    row: Row[Any],
    freed: int | None,
) -> None:
    extra = _SET_BY_ACTION.get(action)
    sets = "status = :st, updated_at = :at" + (f", {extra}" if extra else "")
    if action is TicketAction.RECALL and rec.from_status == TicketStatus.NO_SHOW:
        sets += ", recalls = recalls + 1"
    await conn.execute(
        text(f"UPDATE ticket SET {sets} WHERE reference = :r"),  # noqa: S608 - fixed fragments
        {
            "st": rec.to_status,
            "at": rec.at,
            "r": rec.reference,
            "adv": rec.advisor_id,
            "desk": rec.desk,
            "tq": rec.target_queue,
        },
    )
    if freed is not None:
        # Back to AVAILABLE unless the advisor went on break or offline meanwhile, or asked
        # for a pause after this ticket: then that status, and no automatic next call (the
        # dispatch that follows only calls AVAILABLE advisors, under this row's lock).
        await conn.execute(
            text(
                "UPDATE advisor SET current_ticket = NULL, idle_since = :at,"
                " status = CASE WHEN pending_status IS NOT NULL THEN pending_status"
                " WHEN status = :busy THEN :available ELSE status END,"
                " status_since = CASE WHEN pending_status IS NOT NULL OR status = :busy"
                " THEN :at ELSE status_since END,"
                " pending_status = NULL"
                " WHERE id = :a AND current_ticket = :r"
            ),
            {
                "a": freed,
                "at": rec.at,
                "r": rec.reference,
                "busy": AdvisorStatus.BUSY.value,
                "available": AdvisorStatus.AVAILABLE.value,
            },
        )
    queue = row.queue
    branch_id = row.branch_id
    if action is TicketAction.CALL:
        waited = (rec.at - row.arrived_at).total_seconds()
        await observe(conn, "ticket_wait_seconds", f"queue={queue}", max(waited, 0.0))
    if action is TicketAction.COMPLETE:
        started = row.service_started_at
        service = max((rec.at - started).total_seconds(), 0.0) if started else 0.0
        await observe(conn, "ticket_service_seconds", f"queue={queue}", service)
        await bump(conn, [("tickets_completed_total", f"queue={queue}", 1.0)])
        await _learn_service_time(conn, branch_id, queue, service)


async def _learn_service_time(
    conn: AsyncConnection, branch_id: int, queue: str, seconds: float
) -> None:
    """Fold a measured service into the queue's average (wait estimates use it; see
    `ServiceStats.observe`: outliers trimmed, configured average until enough samples)."""
    current = (
        await conn.execute(
            text(
                "SELECT avg_service_seconds, service_samples FROM branch_queue"
                " WHERE branch_id = :b AND queue = :q FOR UPDATE"
            ),
            {"b": branch_id, "q": queue},
        )
    ).one()
    before = ServiceStats(float(current.avg_service_seconds), int(current.service_samples))
    after = before.observe(max(0.0, seconds))
    if after is before:
        return
    await conn.execute(
        text(
            "UPDATE branch_queue SET avg_service_seconds = :v, service_samples = :n"
            " WHERE branch_id = :b AND queue = :q"
        ),
        {"v": after.mean_service_seconds, "n": after.samples, "b": branch_id, "q": queue},
    )


async def link_chat(engine: AsyncEngine, rec: LinkRecord) -> None:
    """Point the ticket's messages at the customer's chat (idempotent by event id)."""
    async with engine.begin() as conn:
        status = (
            await conn.execute(
                text("SELECT status FROM ticket WHERE reference = :r FOR UPDATE"),
                {"r": rec.reference},
            )
        ).scalar_one_or_none()
        if status is None:
            raise TicketGone(str(rec.reference))
        fresh = (
            await conn.execute(
                text(
                    "INSERT INTO ticket_event (event_id, ticket_reference, at, action,"
                    " from_status, to_status, actor, reason) VALUES (:e, :r, :at, 'LINK_CHAT',"
                    " :s, :s, 'customer:telegram', 'chat linked from the deep link')"
                    " ON CONFLICT (event_id) DO NOTHING RETURNING id"
                ),
                {"e": rec.event_id, "r": rec.reference, "at": rec.at, "s": status},
            )
        ).first()
        if fresh is not None:
            await conn.execute(
                text(
                    "UPDATE ticket SET telegram_chat_id = :c, updated_at = :at,"
                    " language = coalesce(:lang, language) WHERE reference = :r"
                ),
                {"c": rec.chat_id, "at": rec.at, "r": rec.reference, "lang": rec.language},
            )
