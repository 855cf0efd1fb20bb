"""Reservations in PostgreSQL: which advisor holds which ticket.

Long because every compare-and-set on the ticket and advisor rows (claim, release, status,
pending pause) must be read together to see that no ticket is held twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.statuses import WAITING
from domain.assignment import Candidate, FreeAdvisor, QueuePolicy, rank_advisors, rank_tickets
from domain.states import AdvisorStatus, TicketStatus

_AVAILABLE = AdvisorStatus.AVAILABLE.value
_BUSY = AdvisorStatus.BUSY.value

#: How many waiting tickets per queue are considered (heads of each line suffice).
HEADS_PER_QUEUE = 5


@dataclass(frozen=True)
class Advisor:
    id: int
    branch_id: int
    name: str
    desk: int
    queues: tuple[str, ...]
    status: str
    current_ticket: uuid.UUID | None
    #: BREAK or OFFLINE to take instead of the next call once the ticket in hand is done.
    pending_status: str | None = None


@dataclass(frozen=True)
class Claim:
    reference: uuid.UUID
    workflow_id: str
    advisor: Advisor
    queue: str | None = None  # the ticket's queue when reserved (a transfer voids the claim)


#: Told of a reservation before it commits (so a crash after the commit cannot hide it).
OnReserved = Callable[[Claim], Awaitable[None]]


class AdvisorNotFound(Exception):
    pass


async def get_advisor(conn: AsyncConnection, advisor_id: int, *, lock: str = "") -> Advisor | None:
    columns = "id, branch_id, name, desk, queues, status, current_ticket, pending_status"
    sql = f"SELECT {columns} FROM advisor WHERE id = :a AND active {lock}"  # noqa: S608
    row = (await conn.execute(text(sql), {"a": advisor_id})).first()
    if row is None:
        return None
    return Advisor(
        row.id,
        row.branch_id,
        row.name,
        row.desk,
        tuple(row.queues),
        row.status,
        row.current_ticket,
        row.pending_status,
    )


async def claim_next(
    engine: AsyncEngine,
    advisor_id: int,
    now: datetime,
    *,
    auto: bool,
    on_reserved: OnReserved | None = None,
) -> Claim | None:
    """Reserve the best waiting ticket for a free advisor, or None.

    `auto` (dispatch) skips an advisor another process is handling and requires
    AVAILABLE; the advisor's own "call next" waits for the row and makes them BUSY.
    `on_reserved` runs inside the transaction, before it commits.
    """
    async with engine.begin() as conn:
        advisor = await get_advisor(
            conn, advisor_id, lock="FOR UPDATE SKIP LOCKED" if auto else "FOR UPDATE"
        )
        if advisor is None or advisor.current_ticket is not None:
            return None
        if auto and advisor.status != AdvisorStatus.AVAILABLE:
            return None
        for candidate in await _ranked_candidates(conn, advisor, now):
            reference = uuid.UUID(candidate.reference)
            won = (
                await conn.execute(
                    text(
                        "UPDATE ticket SET advisor_id = :a, claimed_at = :now"
                        " WHERE reference = :r AND advisor_id IS NULL"
                        " AND status = ANY(:waiting) RETURNING workflow_id"
                    ),
                    {"a": advisor.id, "now": now, "r": reference, "waiting": WAITING},
                )
            ).first()
            if won is None:
                continue  # another advisor reserved it first
            await conn.execute(
                text(
                    "UPDATE advisor SET current_ticket = :r, status = :busy, status_since = :now"
                    " WHERE id = :a"
                ),
                {"r": reference, "a": advisor.id, "now": now, "busy": _BUSY},
            )
            claim = Claim(reference, won.workflow_id, advisor, candidate.queue)
            if on_reserved is not None:
                await on_reserved(claim)
            return claim
    return None


async def claim_specific(
    engine: AsyncEngine, advisor_id: int, reference: uuid.UUID, now: datetime
) -> Claim | None:
    """Reserve one given ticket (a recall) for an advisor who holds nothing."""
    async with engine.begin() as conn:
        advisor = await get_advisor(conn, advisor_id, lock="FOR UPDATE")
        if advisor is None or advisor.current_ticket is not None:
            return None
        won = (
            await conn.execute(
                text(
                    "UPDATE ticket SET advisor_id = :a, claimed_at = :now"
                    " WHERE reference = :r AND status = :no_show"
                    " AND NOT EXISTS (SELECT 1 FROM advisor o WHERE o.current_ticket = :r)"
                    " RETURNING workflow_id, queue"
                ),
                {
                    "a": advisor.id,
                    "now": now,
                    "r": reference,
                    "no_show": TicketStatus.NO_SHOW.value,
                },
            )
        ).first()
        if won is None:
            return None
        await conn.execute(
            text(
                "UPDATE advisor SET current_ticket = :r, status = :busy, status_since = :now"
                " WHERE id = :a"
            ),
            {"r": reference, "a": advisor.id, "now": now, "busy": _BUSY},
        )
        return Claim(reference, won.workflow_id, advisor, won.queue)


async def release(engine: AsyncEngine, claim: Claim, now: datetime) -> None:
    """Undo a reservation the workflow refused; the advisor is free again."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE ticket SET advisor_id = NULL, claimed_at = NULL"
                " WHERE reference = :r AND advisor_id = :a AND status = ANY(:waiting)"
            ),
            {"r": claim.reference, "a": claim.advisor.id, "waiting": WAITING},
        )
        await conn.execute(
            text(
                "UPDATE advisor SET current_ticket = NULL, idle_since = :now,"
                " status = CASE WHEN pending_status IS NOT NULL THEN pending_status"
                " WHEN status = :busy THEN :available ELSE status END,"
                " pending_status = NULL"
                " WHERE id = :a AND current_ticket = :r"
            ),
            {
                "r": claim.reference,
                "a": claim.advisor.id,
                "now": now,
                "busy": _BUSY,
                "available": _AVAILABLE,
            },
        )


async def _ranked_candidates(
    conn: AsyncConnection, advisor: Advisor, now: datetime
) -> list[Candidate]:
    policies = {
        row.queue: QueuePolicy(
            priority=row.priority, target_wait_seconds=row.target_wait_minutes * 60.0
        )
        for row in (
            await conn.execute(
                text(
                    "SELECT queue, priority, target_wait_minutes FROM branch_queue"
                    " WHERE branch_id = :b AND queue = ANY(:qs)"
                ),
                {"b": advisor.branch_id, "qs": list(advisor.queues)},
            )
        ).all()
    }
    rows = (
        await conn.execute(
            text(
                "SELECT reference, queue, arrived_at FROM ("
                " SELECT reference, queue, arrived_at, row_number() OVER"
                " (PARTITION BY queue ORDER BY arrived_at, reference) AS rn FROM ticket"
                " WHERE branch_id = :b AND queue = ANY(:qs) AND advisor_id IS NULL"
                " AND status = ANY(:waiting)) heads WHERE rn <= :k"
            ),
            {
                "b": advisor.branch_id,
                "qs": list(advisor.queues),
                "k": HEADS_PER_QUEUE,
                "waiting": WAITING,
            },
        )
    ).all()
    candidates = [Candidate(str(r.reference), r.queue, r.arrived_at) for r in rows]
    return rank_tickets(candidates, policies, now)


async def free_advisors(engine: AsyncEngine, branch_id: int, queues: list[str]) -> list[int]:
    """AVAILABLE advisors holding nothing who serve any of `queues`, best first."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT a.id, a.idle_since, (SELECT count(*) FROM ticket t"
                    " WHERE t.advisor_id = a.id AND t.completed_at >= :since) AS served"
                    " FROM advisor a WHERE a.branch_id = :b AND a.active"
                    " AND a.status = :available AND a.current_ticket IS NULL"
                    " AND a.queues && CAST(:qs AS varchar[])"
                ),
                {"b": branch_id, "qs": queues, "since": _day_ago(), "available": _AVAILABLE},
            )
        ).all()
    ranked = rank_advisors([FreeAdvisor(r.id, int(r.served), r.idle_since) for r in rows])
    return [a.advisor_id for a in ranked]


def _day_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=24)


async def set_status(engine: AsyncEngine, advisor_id: int, status: str, now: datetime) -> Advisor:
    """An advisor's own AVAILABLE / BREAK / OFFLINE; refused while holding a ticket."""
    async with engine.begin() as conn:
        advisor = await get_advisor(conn, advisor_id, lock="FOR UPDATE")
        if advisor is None:
            raise AdvisorNotFound(advisor_id)
        if advisor.current_ticket is not None:
            return advisor  # BUSY until the held ticket is finished
        if advisor.status != status:
            await conn.execute(
                text(
                    "UPDATE advisor SET status = :s, status_since = :now,"
                    " idle_since = CASE WHEN :available THEN :now ELSE idle_since END"
                    " WHERE id = :a"
                ),
                {"s": status, "now": now, "a": advisor_id, "available": status == _AVAILABLE},
            )
        refreshed = await get_advisor(conn, advisor_id)
    assert refreshed is not None
    return refreshed


async def set_after_ticket(
    engine: AsyncEngine, advisor_id: int, status: str | None, now: datetime
) -> Advisor:
    """BREAK or OFFLINE once the ticket in hand is finished (None cancels the request).

    Under the advisor's row lock, the same lock the recording of the ticket's end takes:
    either the request is stored before the ticket is freed (the end then applies it and
    nothing is called next), or the advisor already holds nothing and the status is taken
    now (so the automatic call that follows a freed advisor finds them on break).
    """
    async with engine.begin() as conn:
        advisor = await get_advisor(conn, advisor_id, lock="FOR UPDATE")
        if advisor is None:
            raise AdvisorNotFound(advisor_id)
        if advisor.current_ticket is not None or status is None:
            await conn.execute(
                text("UPDATE advisor SET pending_status = :s WHERE id = :a"),
                {"s": status, "a": advisor_id},
            )
        elif advisor.status != status:
            await conn.execute(
                text(
                    "UPDATE advisor SET status = :s, status_since = :now, pending_status = NULL"
                    " WHERE id = :a"
                ),
                {"s": status, "now": now, "a": advisor_id},
            )
        refreshed = await get_advisor(conn, advisor_id)
    assert refreshed is not None
    return refreshed


async def reserved_but_not_called(engine: AsyncEngine, advisor: Advisor) -> str | None:
    """The workflow id of a reservation whose CALL never happened (a crash in between)."""
    if advisor.current_ticket is None:
        return None
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT workflow_id FROM ticket WHERE reference = :r"
                    " AND status = ANY(:waiting) AND advisor_id = :a"
                ),
                {"r": advisor.current_ticket, "a": advisor.id, "waiting": WAITING},
            )
        ).first()
    return None if row is None else str(row.workflow_id)


async def stranded(engine: AsyncEngine, branch_id: int, older_than: datetime) -> list[Claim]:
    """Reservations whose CALL never landed (a process died in between)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT t.reference, t.workflow_id, t.queue, a.id AS advisor_id FROM ticket t"
                    " JOIN advisor a ON a.current_ticket = t.reference"
                    " WHERE t.branch_id = :b AND t.status = ANY(:waiting)"
                    " AND t.claimed_at < :older"
                ),
                {"b": branch_id, "older": older_than, "waiting": WAITING},
            )
        ).all()
        found: list[Claim] = []
        for row in rows:
            advisor = await get_advisor(conn, row.advisor_id)
            if advisor is not None:
                found.append(Claim(row.reference, row.workflow_id, advisor, row.queue))
    return found


async def reservation_of(engine: AsyncEngine, reference: uuid.UUID) -> Claim | None:
    """The reservation held on a waiting ticket (its CALL not landed yet), or None."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT t.workflow_id, t.queue, a.id AS advisor_id FROM ticket t"
                    " JOIN advisor a ON a.current_ticket = t.reference AND a.id = t.advisor_id"
                    " WHERE t.reference = :r AND t.status = ANY(:waiting)"
                ),
                {"r": reference, "waiting": WAITING},
            )
        ).first()
        advisor = None if row is None else await get_advisor(conn, row.advisor_id)
    if row is None or advisor is None:
        return None
    return Claim(reference, row.workflow_id, advisor, row.queue)
