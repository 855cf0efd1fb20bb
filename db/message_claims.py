"""The SENDING claim on a `mensaje` row: which bridge sends it, and until when.

Claiming is one atomic UPDATE, so of any number of bridges holding copies of a
message exactly one sends it. The claim is a lease the sender renews while it
sends; a crashed sender's lease runs out and the message is claimable again, so
nothing is lost. Releasing after the attempt is recorded (`claim_expires_at`
NULL, `claimed_attempt` kept) marks that attempt done: a late copy of the same
attempt is dropped, a copy of the workflow's next attempt claims again.
"""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.states import MessageState

_PENDING = MessageState.PENDING.value


class Claim(enum.Enum):
    CLAIMED = "claimed"  # ours: send it
    HELD = "held"  # another bridge is sending this attempt now: wait for it
    DONE = "done"  # this attempt was made and reported by another copy
    NOT_PENDING = "not_pending"  # SENT, FAILED or no row: nothing to send


_CLAIM = text(
    "UPDATE mensaje SET claimed_by = :me, claimed_attempt = CAST(:attempt AS integer),"
    " claim_expires_at = now() + make_interval(secs => :lease)"
    " WHERE id = :id AND state = :pending"
    " AND (claim_expires_at IS NULL OR claim_expires_at <= now())"
    " AND (CAST(:attempt AS integer) IS NULL OR claimed_attempt IS NULL"
    "      OR claim_expires_at IS NOT NULL OR claimed_attempt < CAST(:attempt AS integer))"
    " RETURNING id"
)
_WHY_NOT = text("SELECT state, claim_expires_at > now() AS live FROM mensaje WHERE id = :id")


async def claim(
    engine: AsyncEngine, message_id: uuid.UUID, attempt: int | None, holder: str, lease: float
) -> Claim:
    """Take the SENDING claim of `attempt` for `lease` seconds, or say why not."""
    async with engine.begin() as conn:
        params = {"id": message_id, "attempt": attempt, "me": holder, "lease": lease}
        taken = (await conn.execute(_CLAIM, {**params, "pending": _PENDING})).first()
        if taken is not None:
            return Claim.CLAIMED
        row = (await conn.execute(_WHY_NOT, {"id": message_id})).first()
    if row is None or row.state != _PENDING:
        return Claim.NOT_PENDING
    return Claim.HELD if row.live else Claim.DONE


async def renew(engine: AsyncEngine, message_id: uuid.UUID, holder: str, lease: float) -> bool:
    """Extend our lease while the send goes on; False once it is no longer ours."""
    async with engine.begin() as conn:
        kept = (
            await conn.execute(
                text(
                    "UPDATE mensaje SET claim_expires_at = now() + make_interval(secs => :lease)"
                    " WHERE id = :id AND claimed_by = :me AND state = :pending"
                    " AND claim_expires_at IS NOT NULL RETURNING id"
                ),
                {"id": message_id, "me": holder, "lease": lease, "pending": _PENDING},
            )
        ).first()
    return kept is not None


async def release(engine: AsyncEngine, message_id: uuid.UUID, holder: str, *, done: bool) -> None:
    """`done`: the attempt is recorded; otherwise it was abandoned and is claimable now."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE mensaje SET claim_expires_at = CASE WHEN :done THEN NULL ELSE now() END"
                " WHERE id = :id AND claimed_by = :me AND claim_expires_at IS NOT NULL"
            ),
            {"id": message_id, "me": holder, "done": done},
        )
