"""Ticket queries shared by the activities (writes) and the API (reads).

Writes are short transactions: numbers come from a row-locked counter per
branch, queue and business day, so concurrent creations get consecutive,
distinct numbers and a rolled-back creation gives its number back.

Long because creation, numbering and the reads that must agree with them are kept in one
place; the counter SQL and its readers change together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.statuses import ACTIVE, SERVING_ADVISORS, WAITING
from domain.contracts import CreateOutcome, NewTicket, TicketView, WaitRange
from domain.estimate import WaitEstimate, honest_wait
from domain.numbering import business_day, business_day_bounds, format_ticket_number
from domain.queues import DEFAULT_QUEUE_SETTINGS
from domain.states import AdvisorStatus, TicketStatus

EVENT_NAMESPACE = uuid.UUID("6f1f3c57-8a43-4b8e-9c57-1d1f8f7b2a10")


@dataclass(frozen=True)
class BranchRow:
    id: int
    name: str
    time_zone: str


def created_event_id(reference: uuid.UUID) -> uuid.UUID:
    """Stable id of a ticket's creation event, so a retried activity writes it once."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{reference}:created")


async def ensure_branch(conn: AsyncConnection, name: str, time_zone: str) -> BranchRow:
    """Find a branch by name (case-insensitive) or register it with default queues."""
    row = (
        await conn.execute(
            text("SELECT id, name, time_zone FROM branch WHERE lower(name) = lower(:n)"),
            {"n": name},
        )
    ).first()
    if row is None:
        inserted = (
            await conn.execute(
                text(
                    "INSERT INTO branch (name, time_zone) VALUES (:n, :tz) "
                    "ON CONFLICT ((lower(name))) DO NOTHING RETURNING id, name, time_zone"
                ),
                {"n": name, "tz": time_zone},
            )
        ).first()
        if inserted is not None:
            await _seed_queues(conn, inserted.id)
            row = inserted
        else:  # another transaction registered it concurrently
            row = (
                await conn.execute(
                    text("SELECT id, name, time_zone FROM branch WHERE lower(name) = lower(:n)"),
                    {"n": name},
                )
            ).one()
    return BranchRow(id=row.id, name=row.name, time_zone=row.time_zone)


async def _seed_queues(conn: AsyncConnection, branch_id: int) -> None:
    await conn.execute(
        text(
            "INSERT INTO branch_queue (branch_id, queue, prefix, avg_service_seconds, priority,"
            " notify_threshold, target_wait_minutes, no_show_seconds)"
            " VALUES (:b, :q, :p, :s, :pr, :nt, :tw, :ns) ON CONFLICT DO NOTHING"
        ),
        [
            {
                "b": branch_id,
                "q": queue.value,
                "p": cfg.prefix,
                "s": float(cfg.avg_service_seconds),
                "pr": cfg.priority,
                "nt": cfg.notify_threshold,
                "tw": cfg.target_wait_minutes,
                "ns": cfg.no_show_seconds,
            }
            for queue, cfg in DEFAULT_QUEUE_SETTINGS.items()
        ],
    )


_VIEW_SQL = """
SELECT t.reference, t.number, t.queue, t.status, t.arrived_at, t.created_at, t.expires_at,
       t.telegram_chat_id, t.branch_id, b.name AS branch_name, t.desk, t.called_at,
       q.avg_service_seconds
FROM ticket t
JOIN branch b ON b.id = t.branch_id
JOIN branch_queue q ON q.branch_id = t.branch_id AND q.queue = t.queue
"""


async def _view(conn: AsyncConnection, row: Any) -> TicketView:
    position: int | None = None
    ahead: int | None = None
    wait: WaitRange | None = None
    if row.status in WAITING:
        ahead = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM ticket WHERE branch_id = :b AND queue = :q"
                    " AND status IN :waiting AND (arrived_at, reference) < (:at, :ref)"
                ).bindparams(bindparam("waiting", expanding=True)),
                {
                    "b": row.branch_id,
                    "q": row.queue,
                    "waiting": WAITING,
                    "at": row.arrived_at,
                    "ref": row.reference,
                },
            )
        ).scalar_one()
        position = ahead + 1
        servers, idle = await _staffing_in(conn, row.branch_id, row.queue)
        wait = _range(
            honest_wait(ahead, row.avg_service_seconds, servers=servers, idle_servers=idle)
        )
    return TicketView(
        reference=row.reference,
        number=row.number,
        queue=row.queue,
        branch_office=row.branch_name,
        status=row.status,
        position=position,
        tickets_ahead=ahead,
        estimated_wait=wait,
        created_at=row.created_at,
        expires_at=row.expires_at,
        telegram_chat_id=row.telegram_chat_id,
        desk=row.desk,
        called_at=row.called_at,
    )


def _range(est: WaitEstimate | None) -> WaitRange | None:
    """The wait a waiting ticket is told; None when nobody serves its queue now."""
    if est is None:
        return None
    return WaitRange(minutes=est.minutes, low=est.low_minutes, high=est.high_minutes)


_STAFFING = (
    "SELECT count(*) FILTER (WHERE status = ANY(:serving)) AS servers,"
    " count(*) FILTER (WHERE status = :available AND current_ticket IS NULL) AS idle"
    " FROM advisor WHERE branch_id = :b AND active AND :q = ANY(queues)"
)


async def _staffing_in(conn: AsyncConnection, branch_id: int, queue: str) -> tuple[int, int]:
    """Advisors serving the queue now (AVAILABLE or BUSY) and how many of them are idle."""
    params = {
        "b": branch_id,
        "q": queue,
        "serving": SERVING_ADVISORS,
        "available": AdvisorStatus.AVAILABLE.value,
    }
    row = (await conn.execute(text(_STAFFING), params)).one()
    return int(row.servers), min(int(row.idle), int(row.servers))


async def near_turn_workflows(conn: AsyncConnection, branch_id: int, queue: str) -> list[str]:
    """WAITING tickets that have just come within the near-turn threshold.

    Tickets created already inside it stay WAITING (they were never far away).
    """
    rows = (
        await conn.execute(
            text(
                "SELECT w.workflow_id FROM (SELECT workflow_id, status, created_position,"
                " row_number() OVER (ORDER BY arrived_at, reference) AS pos FROM ticket"
                " WHERE branch_id = :b AND queue = :q AND status = ANY(:waiting)) w"
                " JOIN branch_queue bq ON bq.branch_id = :b AND bq.queue = :q"
                " WHERE w.status = :not_notified AND w.pos <= bq.notify_threshold"
                " AND coalesce(w.created_position, bq.notify_threshold + 1) > bq.notify_threshold"
            ),
            {
                "b": branch_id,
                "q": queue,
                "waiting": WAITING,
                "not_notified": TicketStatus.WAITING.value,
            },
        )
    ).all()
    return [r.workflow_id for r in rows]


async def get_ticket(conn: AsyncConnection, reference: uuid.UUID) -> TicketView | None:
    row = (
        await conn.execute(text(_VIEW_SQL + " WHERE t.reference = :r"), {"r": reference})
    ).first()
    return None if row is None else await _view(conn, row)


async def find_by_number(
    conn: AsyncConnection, branch_office: str, number: str
) -> TicketView | None:
    """The most recent ticket with this number at the branch (numbers restart daily)."""
    row = (
        await conn.execute(
            text(
                _VIEW_SQL + " WHERE lower(b.name) = lower(:b) AND t.number = :n"
                " ORDER BY t.business_day DESC LIMIT 1"
            ),
            {"b": branch_office.strip(), "n": number.strip().upper()},
        )
    ).first()
    return None if row is None else await _view(conn, row)


async def find_active(
    conn: AsyncConnection, branch_office: str, national_id_hash: str
) -> TicketView | None:
    row = (
        await conn.execute(
            text(
                _VIEW_SQL + " WHERE lower(b.name) = lower(:b) AND t.national_id_hash = :h"
                " AND t.status IN :active"
            ).bindparams(bindparam("active", expanding=True)),
            {"b": branch_office.strip(), "h": national_id_hash, "active": ACTIVE},
        )
    ).first()
    return None if row is None else await _view(conn, row)


async def create_ticket(
    engine: AsyncEngine, new: NewTicket, default_tz: str, *, workflow_pending: bool = False
) -> CreateOutcome:
    """Persist a new ticket once; a retry with the same reference returns the same ticket
    (flagged when its fingerprint differs). `workflow_pending`: the caller starts the
    ticket's workflow after this commit (the row is adopted until it says it did)."""
    try:
        return await _create_once(engine, new, default_tz, workflow_pending)
    except IntegrityError:
        # A concurrent request for the same person won the partial unique index.
        async with engine.connect() as conn:
            existing = await get_ticket(conn, new.reference)
            if existing is not None:
                return CreateOutcome(ticket=existing, replayed=True)
            active = await find_active(conn, new.branch_office, new.national_id_hash)
        if active is None:
            raise
        return CreateOutcome(conflicting=active)


_EXISTING_OR_ACTIVE = (
    "SELECT t.reference, t.fingerprint, t.branch_id"
    " FROM ticket t JOIN branch b ON b.id = t.branch_id"
    " WHERE t.reference = :r OR (lower(b.name) = lower(:b) AND t.national_id_hash = :h"
    " AND t.status IN :active) ORDER BY (t.reference = :r) DESC LIMIT 1"
)
_BRANCH_QUEUE = (
    "SELECT b.id, b.name, b.time_zone, q.prefix, q.avg_service_seconds FROM branch b"
    " JOIN branch_queue q ON q.branch_id = b.id AND q.queue = :q WHERE lower(b.name) = lower(:b)"
)
# Both reads of a creation in one round trip: the ticket this request made already (or the
# person's active one), and the branch's queue (absent: the branch is registered first).
# (Joins two of this module's constants, no input: hence the noqa.)
_FOUND_AND_PLACE = (
    "SELECT f.reference, f.fingerprint, f.branch_id AS found_branch_id, p.id, p.name,"  # noqa: S608
    " p.time_zone, p.prefix, p.avg_service_seconds FROM (SELECT 1) AS one"
    f" LEFT JOIN LATERAL ({_EXISTING_OR_ACTIVE}) f ON true"
    f" LEFT JOIN LATERAL ({_BRANCH_QUEUE}) p ON true"
)
_NEXT_SEQUENCE = (
    "INSERT INTO ticket_counter (branch_id, queue, business_day, last_sequence)"
    " VALUES (:b, :q, :d, 1) ON CONFLICT (branch_id, queue, business_day)"
    " DO UPDATE SET last_sequence = ticket_counter.last_sequence + 1 RETURNING last_sequence"
)
# One statement inserts the ticket and its audit event and counts who waits ahead. It runs
# after the counter row lock, so clock_timestamp() orders arrivals like numbers.
_INSERT = (
    "WITH ins AS (INSERT INTO ticket (reference, branch_id, queue, number, sequence,"
    " business_day, status, national_id_hash, national_id_masked, phone_masked,"
    " telegram_chat_id, language, workflow_id, arrived_at, created_at, updated_at, expires_at,"
    " fingerprint, workflow_started, created_position)"
    " VALUES (:r, :b, :q, :n, :s, :d, :status, :h, :m, :pm, :chat, :lang, :wf,"
    " clock_timestamp(), clock_timestamp(), clock_timestamp(), :exp, :fp, :started,"
    " (SELECT count(*) + 1 FROM ticket w WHERE w.branch_id = :b AND w.queue = :q_count"
    " AND w.status IN :waiting))"
    " RETURNING reference, created_at, created_position, status),"
    " ev AS (INSERT INTO ticket_event (event_id, ticket_reference, at, action, from_status,"
    " to_status, actor, reason) SELECT :e, reference, created_at, 'CREATE', NULL, status,"
    " 'customer', NULL FROM ins)"
    " SELECT ins.created_at, ins.created_position - 1 AS ahead, st.servers, st.idle FROM ins,"
    " (SELECT count(*) FILTER (WHERE a.status = ANY(:serving)) AS servers,"
    " count(*) FILTER (WHERE a.status = :available AND a.current_ticket IS NULL) AS idle"
    " FROM advisor a WHERE a.branch_id = :b AND a.active"
    " AND a.queues @> ARRAY[CAST(:q_free AS varchar)]) st"
)


async def _create_once(
    engine: AsyncEngine, new: NewTicket, default_tz: str, workflow_pending: bool
) -> CreateOutcome:
    async with engine.begin() as conn:
        found = (
            await conn.execute(
                text(_FOUND_AND_PLACE).bindparams(bindparam("active", expanding=True)),
                {
                    "r": new.reference,
                    "b": new.branch_office,
                    "q": new.queue,
                    "h": new.national_id_hash,
                    "active": ACTIVE,
                },
            )
        ).one()
        if found.reference is not None:
            ticket = await get_ticket(conn, found.reference)
            assert ticket is not None
            if found.reference == new.reference:
                mismatch = found.fingerprint not in (None, new.fingerprint)
                return CreateOutcome(
                    ticket=ticket,
                    branch_id=found.found_branch_id,
                    replayed=True,
                    fingerprint_mismatch=mismatch,
                )
            return CreateOutcome(conflicting=ticket)
        params = {"b": new.branch_office, "q": new.queue}
        place: Any = found if found.id is not None else None
        if place is None:
            await ensure_branch(conn, new.branch_office, default_tz)
            place = (await conn.execute(text(_BRANCH_QUEUE), params)).one()
        day = business_day(datetime.now(UTC), place.time_zone)
        sequence = (
            await conn.execute(text(_NEXT_SEQUENCE), {"b": place.id, "q": new.queue, "d": day})
        ).scalar_one()
        _, day_end = business_day_bounds(day, place.time_zone)
        number = format_ticket_number(place.prefix, sequence)
        row = (
            await conn.execute(
                text(_INSERT).bindparams(bindparam("waiting", expanding=True)),
                {
                    "r": new.reference,
                    "b": place.id,
                    "q": new.queue,
                    "q_count": new.queue,
                    "q_free": new.queue,
                    "n": number,
                    "s": sequence,
                    "d": day,
                    "h": new.national_id_hash,
                    "m": new.national_id_masked,
                    "pm": new.phone_masked,
                    "chat": new.telegram_chat_id,
                    "lang": new.language,
                    "wf": f"ticket-{new.reference}",
                    "exp": day_end,
                    "fp": new.fingerprint,
                    "started": not workflow_pending,
                    "e": created_event_id(new.reference),
                    "waiting": WAITING,
                    "status": TicketStatus.WAITING.value,
                    "available": AdvisorStatus.AVAILABLE.value,
                    "serving": SERVING_ADVISORS,
                },
            )
        ).one()
    servers, idle = int(row.servers), min(int(row.idle), int(row.servers))
    est = honest_wait(row.ahead, place.avg_service_seconds, servers=servers, idle_servers=idle)
    return CreateOutcome(
        branch_id=place.id,
        advisor_free=int(row.idle) > 0,
        ticket=TicketView(
            reference=new.reference,
            number=number,
            queue=new.queue,
            branch_office=place.name,
            status=TicketStatus.WAITING.value,
            position=row.ahead + 1,
            tickets_ahead=row.ahead,
            estimated_wait=_range(est),
            created_at=row.created_at,
            expires_at=day_end,
            telegram_chat_id=new.telegram_chat_id,
        ),
    )
