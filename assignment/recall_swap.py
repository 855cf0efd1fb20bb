"""An advisor's own no-show recalled while the next ticket is only called: the swap.

The advisor's single `current_ticket` slot moves from the called ticket to the no-show
in one compare-and-set (so no ticket is ever held twice and the advisor is never free in
between for an automatic call); the called ticket's workflow is then asked to REQUEUE it
(back to its line with its arrival time) and the no-show's to RECALL it at this desk.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from assignment.claims import Claim, get_advisor
from domain.states import TicketStatus


@dataclass(frozen=True)
class HeldTicket:
    reference: uuid.UUID
    workflow_id: str
    status: str
    advisor_id: int | None


async def ticket_row(conn: AsyncConnection, reference: uuid.UUID) -> HeldTicket | None:
    row = (
        await conn.execute(
            text(
                "SELECT reference, workflow_id, status, advisor_id FROM ticket WHERE reference = :r"
            ),
            {"r": reference},
        )
    ).first()
    if row is None:
        return None
    return HeldTicket(row.reference, str(row.workflow_id), str(row.status), row.advisor_id)


async def recalls_of(conn: AsyncConnection, reference: uuid.UUID) -> int:
    """How many times the ticket was called back from NO_SHOW (0 when unknown)."""
    value = (
        await conn.execute(
            text("SELECT recalls FROM ticket WHERE reference = :r"), {"r": reference}
        )
    ).scalar()
    return int(value or 0)


async def take_slot(
    engine: AsyncEngine, advisor_id: int, held: uuid.UUID, no_show: uuid.UUID, now: datetime
) -> Claim | None:
    """Move the advisor's slot from `held` to their own not-yet-recalled `no_show`."""
    async with engine.begin() as conn:
        advisor = await get_advisor(conn, advisor_id, lock="FOR UPDATE")
        if advisor is None or advisor.current_ticket != held:
            return None
        won = (
            await conn.execute(
                text(
                    "UPDATE ticket SET claimed_at = :now WHERE reference = :r"
                    " AND advisor_id = :a AND status = :no_show AND recalls = 0"
                    " AND NOT EXISTS (SELECT 1 FROM advisor o WHERE o.current_ticket = :r)"
                    " RETURNING workflow_id, queue"
                ),
                {"a": advisor.id, "now": now, "r": no_show, "no_show": TicketStatus.NO_SHOW.value},
            )
        ).first()
        if won is None:
            return None
        await conn.execute(
            text("UPDATE advisor SET current_ticket = :r WHERE id = :a AND current_ticket = :h"),
            {"r": no_show, "a": advisor.id, "h": held},
        )
        return Claim(no_show, str(won.workflow_id), advisor, won.queue)


async def give_back_slot(engine: AsyncEngine, claim: Claim, held: uuid.UUID) -> None:
    """Undo `take_slot` when the called ticket could not go back to its line."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE advisor SET current_ticket = :h WHERE id = :a AND current_ticket = :r"
                " AND NOT EXISTS (SELECT 1 FROM advisor o WHERE o.current_ticket = :h)"
            ),
            {"h": held, "a": claim.advisor.id, "r": claim.reference},
        )
