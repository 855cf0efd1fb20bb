"""The kiosk token cache (api.services.kiosk_tokens) keeps revocation bounded: an entry is
believed for `TTL_SECONDS` at most, a revocation through this process forgets it at once,
and only valid tokens are kept. The clock is a controlled one, so the bound is exact."""

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

from api.services import kiosk_tokens
from db.kiosks import KioskRow, token_hash
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
    kiosk_tokens.forget()
    fake = Clock()
    monkeypatch.setattr(kiosk_tokens.time, "monotonic", fake)
    yield fake
    kiosk_tokens.forget()


def test_a_valid_token_is_believed_for_the_ttl_and_no_longer(clock: Clock) -> None:
    hashed = token_hash("kiosk_abc")
    kiosk_tokens.remember(hashed, KIOSK, kiosk_tokens.generation())

    clock.now += kiosk_tokens.TTL_SECONDS - 0.01
    assert kiosk_tokens.cached(hashed) == KIOSK
    clock.now += 0.01
    assert kiosk_tokens.cached(hashed) is None


def test_forget_drops_entries_and_the_answers_of_lookups_in_flight(clock: Clock) -> None:
    first, second = token_hash("kiosk_one"), token_hash("kiosk_two")
    kiosk_tokens.remember(first, KIOSK, kiosk_tokens.generation())
    in_flight = kiosk_tokens.generation()  # a lookup started before the revocation

    kiosk_tokens.forget()
    kiosk_tokens.remember(second, KIOSK, in_flight)

    assert kiosk_tokens.cached(first) is None
    assert kiosk_tokens.cached(second) is None


def test_the_cache_stays_bounded(clock: Clock) -> None:
    for n in range(kiosk_tokens.MAX_ENTRIES + 5):
        kiosk_tokens.remember(token_hash(f"kiosk_{n}"), KIOSK, kiosk_tokens.generation())
        assert len(kiosk_tokens._entries) <= kiosk_tokens.MAX_ENTRIES


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
