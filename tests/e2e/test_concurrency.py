"""Many advisors calling at once: every ticket served exactly once, nobody holds two."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.staff import Staff, add_advisor

pytestmark = pytest.mark.e2e

QUEUES = ["CAJA", "PERSONAL_BANKER", "EMPRESAS", "GERENCIA"]
TICKETS = 240
ADVISORS = 12
DEADLINE_SECONDS = 90


async def open_tickets(db: AsyncEngine, branch: str) -> int:
    async with db.connect() as conn:
        return int(
            (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM ticket t JOIN branch b ON b.id = t.branch_id"
                        " WHERE b.name = :b AND t.status IN"
                        " ('WAITING', 'NOTIFIED', 'CALLED', 'IN_SERVICE')"
                    ),
                    {"b": branch},
                )
            ).scalar_one()
        )


async def serve_until_empty(
    api: httpx.AsyncClient, db: AsyncEngine, branch: str, advisor: Staff
) -> list[str]:
    """An advisor's day: take a ticket (or be given one), start, complete, repeat."""
    served: list[str] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        ticket: dict[str, Any] | None = (
            await api.get("/api/advisors/me", headers=advisor.headers)
        ).json()["ticket"]
        if ticket is None:
            resp = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
            if resp.status_code == 409:
                continue  # automatic assignment gave us one meanwhile
            assert resp.status_code == 200, resp.text
            ticket = resp.json()["ticket"]
        if ticket is None:
            if await open_tickets(db, branch) == 0:
                return served
            await asyncio.sleep(0.05)  # others still serving; poll again
            continue
        reference = ticket["reference"]
        if ticket["status"] in ("WAITING", "NOTIFIED"):
            await asyncio.sleep(0.02)  # reserved for us; the CALL is on its way
            continue
        if ticket["status"] == "CALLED":
            started = await api.post(f"/api/tickets/{reference}/start", headers=advisor.headers)
            assert started.status_code == 200, started.text
        done = await api.post(f"/api/tickets/{reference}/complete", headers=advisor.headers)
        assert done.status_code == 200, done.text
        served.append(reference)
    me = (await api.get("/api/advisors/me", headers=advisor.headers)).json()
    async with db.connect() as conn:
        open_rows = (
            await conn.execute(
                text(
                    "SELECT t.number, t.status, t.advisor_id FROM ticket t"
                    " JOIN branch b ON b.id = t.branch_id WHERE b.name = :b"
                    " AND t.status NOT IN ('COMPLETED')"
                ),
                {"b": branch},
            )
        ).all()
    raise AssertionError(f"advisor still busy after {DEADLINE_SECONDS}s: {me}; open: {open_rows}")


async def test_twelve_advisors_serve_240_tickets_exactly_once(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Concurrencia")
    created = await asyncio.gather(
        *(api.post("/api/tickets", json=ticket_body(branch, QUEUES[i % 4])) for i in range(TICKETS))
    )
    assert {r.status_code for r in created} == {201}
    references = {r.json()["reference"] for r in created}
    # Half the advisors serve every queue, the others one or two queues each.
    advisors = [
        await add_advisor(
            db, api, branch, desk=i + 1, queues=QUEUES if i % 2 == 0 else [QUEUES[i % 4]]
        )
        for i in range(ADVISORS)
    ]

    served = await asyncio.gather(*(serve_until_empty(api, db, branch, a) for a in advisors))

    flat = [ref for per_advisor in served for ref in per_advisor]
    assert Counter(flat).most_common(1)[0][1] == 1, "a ticket was served twice"
    assert set(flat) == references
    async with db.connect() as conn:
        statuses = Counter(
            r.status
            for r in (
                await conn.execute(
                    text("SELECT status FROM ticket WHERE reference = ANY(:r)"),
                    {"r": list(references)},
                )
            ).all()
        )
        events = (
            await conn.execute(
                text(
                    "SELECT e.ticket_reference, e.action, e.at, e.id, t.advisor_id"
                    " FROM ticket_event e JOIN ticket t ON t.reference = e.ticket_reference"
                    " WHERE e.ticket_reference = ANY(:r) AND e.action IN ('CALL', 'COMPLETE')"
                    " ORDER BY e.at, e.id"
                ),
                {"r": list(references)},
            )
        ).all()
    assert statuses == {"COMPLETED": TICKETS}
    per_ticket = Counter((e.ticket_reference, e.action) for e in events)
    assert set(per_ticket.values()) == {1}, "each ticket is called and completed exactly once"

    # Replay each advisor's calls and completions in time order: never two in hand.
    holding: dict[int, set[Any]] = defaultdict(set)
    for event in events:
        hand = holding[event.advisor_id]
        if event.action == "CALL":
            hand.add(event.ticket_reference)
            assert len(hand) == 1, f"advisor {event.advisor_id} held two tickets"
        else:
            hand.discard(event.ticket_reference)
    assert all(len(by) > 0 for by in served), "every advisor took part"
