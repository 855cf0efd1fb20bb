"""Rows the API persisted before starting their workflow, until it saw the start.

The API commits a new ticket, then starts its workflow; a process that dies (or a
Temporal that is away) between the two leaves a row with no workflow. Such rows keep
`workflow_started = false`; the API's adoption sweep starts their workflow from the row
(an idempotent start) and marks them, as the creating request does when it succeeds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.statuses import ACTIVE
from db.tickets import get_ticket
from domain.contracts import CreateOutcome, NewTicket

_UNADOPTED = (
    "SELECT t.reference, b.id AS branch_id, b.name AS branch_office, t.queue, t.status,"
    " t.national_id_hash, t.national_id_masked, t.phone_masked, t.telegram_chat_id,"
    " t.language, t.fingerprint, t.created_at FROM ticket t JOIN branch b ON b.id = t.branch_id"
    " WHERE NOT t.workflow_started"
    " AND t.created_at < clock_timestamp() - make_interval(secs => :age)"
    " ORDER BY t.created_at LIMIT :limit"
)


@dataclass(frozen=True)
class Unadopted:
    """A row waiting for its workflow: the workflow's input, rebuilt from the row."""

    new: NewTicket
    active: bool


async def mark_started(engine: AsyncEngine, references: list[uuid.UUID]) -> None:
    """The rows' workflows are known to run (or to have run): the sweep leaves them."""
    if not references:
        return
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE ticket SET workflow_started = true"
                " WHERE reference IN :refs AND NOT workflow_started"
            ).bindparams(bindparam("refs", expanding=True)),
            {"refs": references},
        )


async def unadopted(
    engine: AsyncEngine, older_than: timedelta, limit: int = 100
) -> list[Unadopted]:
    """Rows committed more than `older_than` ago whose workflow was never seen started."""
    found: list[Unadopted] = []
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(_UNADOPTED), {"age": older_than.total_seconds(), "limit": limit}
            )
        ).all()
        for row in rows:
            view = await get_ticket(conn, row.reference)
            if view is None:
                continue
            new = NewTicket(
                reference=row.reference,
                branch_office=row.branch_office,
                queue=row.queue,
                national_id_hash=row.national_id_hash,
                national_id_masked=row.national_id_masked,
                phone_masked=row.phone_masked,
                telegram_chat_id=row.telegram_chat_id,
                language=row.language,
                fingerprint=row.fingerprint or "",
                requested_at=row.created_at,
                created=CreateOutcome(
                    ticket=view,
                    branch_id=row.branch_id,
                    # Whatever dispatch its creator would have done is done now.
                    advisor_free=True,
                    created_message_started=row.telegram_chat_id is not None,
                ),
            )
            found.append(Unadopted(new=new, active=row.status in ACTIVE))
    return found
