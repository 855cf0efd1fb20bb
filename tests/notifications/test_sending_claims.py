"""The SENDING claim on a `mensaje` row, raced by several holders against PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from db import message_claims, messages
from db.message_claims import Claim
from tests.notifications.helpers import create_ticket
from tests.support.wait import eventually


async def pending_message(api: httpx.AsyncClient, db: AsyncEngine) -> uuid.UUID:
    """A PENDING row nobody publishes (its ticket has no chat, its kind is the test's)."""
    reference = uuid.UUID(str((await create_ticket(api))["reference"]))
    row = await messages.ensure_pending(
        db,
        ticket_reference=reference,
        kind=f"CLAIM_TEST_{uuid.uuid4().hex[:8]}",
        chat_id=1,
        body="hola",
        scheduled_at=datetime.now(UTC),
    )
    return row.id


async def test_one_of_many_claims_wins_and_the_others_see_it_held(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    mid = await pending_message(api, db)
    claims = await asyncio.gather(
        *(message_claims.claim(db, mid, 0, f"bridge-{i}", 30.0) for i in range(8))
    )
    assert sorted(c.value for c in claims) == ["claimed"] + ["held"] * 7


async def test_a_crashed_holders_claim_lapses_and_a_done_attempt_is_not_sent_again(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    mid = await pending_message(api, db)
    assert await message_claims.claim(db, mid, 0, "crashed", 0.5) == Claim.CLAIMED
    assert await message_claims.claim(db, mid, 0, "other", 10.0) == Claim.HELD

    async def lapsed() -> bool:
        return await message_claims.claim(db, mid, 0, "other", 10.0) == Claim.CLAIMED

    await eventually(lapsed, timeout=5, what="the crashed holder's lease to run out")
    assert not await message_claims.renew(db, mid, "crashed", 10.0)  # no longer its claim
    await message_claims.release(db, mid, "other", done=True)  # attempt 0 made (RETRY)
    assert await message_claims.claim(db, mid, 0, "late copy", 10.0) == Claim.DONE
    assert await message_claims.claim(db, mid, 1, "next attempt", 10.0) == Claim.CLAIMED
    await messages.mark_sent(db, mid, "CLAIM_TEST", 7, datetime.now(UTC), 0.0)
    assert await message_claims.claim(db, mid, 2, "after sent", 10.0) == Claim.NOT_PENDING


async def test_an_abandoned_claim_is_claimable_at_once(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    mid = await pending_message(api, db)
    assert await message_claims.claim(db, mid, 0, "stopping", 30.0) == Claim.CLAIMED
    await message_claims.release(db, mid, "stopping", done=False)  # SIGTERM mid-send
    assert await message_claims.claim(db, mid, 0, "redelivered", 30.0) == Claim.CLAIMED
