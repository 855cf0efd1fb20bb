"""The kiosk token cache (api.services.kiosk_tokens on api.services.short_cache) keeps
revocation bounded: an entry is believed for `TTL_SECONDS` at most, a revocation through
this process forgets it at once (and the lookups in flight), only valid tokens are kept,
and a burst shares one lookup. The clock is a controlled one, so the bound is exact."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.services import kiosk_tokens, short_cache
from api.services.short_cache import ShortCache
from db.kiosks import KioskRow
from tests.support.branches import add_branch, bootstrap_headers
from tests.support.data import ticket_body

KIOSK = KioskRow(
    id=7,
    branch_id=3,
    branch_office="Centro",
    label="hall",
    created_by="ana",
    created_at=datetime(2026, 1, 5, tzinfo=UTC),
    revoked_at=None,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(short_cache.time, "monotonic", fake)
    yield fake


class Lookups:
    """A database stand-in that answers when told to, counting the lookups."""

    def __init__(self, answer: KioskRow | None) -> None:
        self.answer = answer
        self.count = 0
        self.release = asyncio.Event()

    async def __call__(self) -> KioskRow | None:
        self.count += 1
        await self.release.wait()
        return self.answer


def kiosk_cache() -> ShortCache[str, KioskRow]:
    return ShortCache(kiosk_tokens.TTL_SECONDS, kiosk_tokens.MAX_ENTRIES, keep_none=False)


async def test_a_valid_token_is_believed_for_the_ttl_and_no_longer(clock: Clock) -> None:
    cache, lookups = kiosk_cache(), Lookups(KIOSK)
    lookups.release.set()
    assert await cache.get("h", lookups) == KIOSK

    clock.now += kiosk_tokens.TTL_SECONDS - 0.01
    assert await cache.get("h", lookups) == KIOSK and lookups.count == 1
    clock.now += 0.01
    assert await cache.get("h", lookups) == KIOSK and lookups.count == 2


async def test_an_invalid_token_is_looked_up_every_time(clock: Clock) -> None:
    cache, lookups = kiosk_cache(), Lookups(None)
    lookups.release.set()

    assert await cache.get("h", lookups) is None
    assert await cache.get("h", lookups) is None
    assert lookups.count == 2 and len(cache) == 0


async def test_concurrent_requests_share_one_lookup(clock: Clock) -> None:
    cache, lookups = kiosk_cache(), Lookups(KIOSK)
    waiting = [asyncio.ensure_future(cache.get("h", lookups)) for _ in range(20)]
    await asyncio.sleep(0)  # let them all reach the lookup in flight

    lookups.release.set()

    assert await asyncio.gather(*waiting) == [KIOSK] * 20
    assert lookups.count == 1


async def test_forget_drops_entries_lookups_in_flight_and_their_answers(clock: Clock) -> None:
    cache, stale, fresh = kiosk_cache(), Lookups(KIOSK), Lookups(None)
    before = asyncio.ensure_future(cache.get("h", stale))  # started before the revocation
    await asyncio.sleep(0)

    cache.forget()
    after = asyncio.ensure_future(cache.get("h", fresh))
    fresh.release.set()
    stale.release.set()

    assert await after is None and fresh.count == 1  # did not wait for the stale lookup
    assert await before == KIOSK
    assert cache.cached("h") == (False, None)  # the stale answer was not kept


async def test_the_cache_stays_bounded(clock: Clock) -> None:
    cache, lookups = kiosk_cache(), Lookups(KIOSK)
    lookups.release.set()
    for n in range(kiosk_tokens.MAX_ENTRIES + 5):
        await cache.get(f"h{n}", lookups)
        assert len(cache) <= kiosk_tokens.MAX_ENTRIES


@pytest.mark.e2e
async def test_a_token_revoked_elsewhere_is_refused_once_the_cache_entry_expires(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    """Revoked straight in the database, as another API replica does: this API believed
    the token a moment ago, and refuses it once its entry expires (polled, not timed)."""
    branch = await add_branch(api, "Réplica")
    issued = await api.post(
        f"/api/branches/{quote(branch, safe='')}/kiosks",
        json={"label": "hall"},
        headers=await bootstrap_headers(api),
    )
    assert issued.status_code == 201, issued.text
    headers = {"X-Kiosk-Token": issued.json()["token"]}
    first = await api.post("/api/tickets", json=ticket_body(branch), headers=headers)
    assert first.status_code == 201, first.text

    async with db.begin() as conn:
        await conn.execute(
            text("UPDATE kiosk SET revoked_at = now() WHERE id = :i"), {"i": issued.json()["id"]}
        )
    deadline = time.monotonic() + kiosk_tokens.TTL_SECONDS + 30  # generous: a busy box
    status = first.status_code
    while status != 401 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        status = (
            await api.post("/api/tickets", json=ticket_body(branch), headers=headers)
        ).status_code
        assert status in (201, 401, 429), status

    assert status == 401
