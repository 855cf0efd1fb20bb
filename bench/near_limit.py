"""The near-limit delivery phase: many chats' "created" plus advisors' calls, so the
bot's total send rate nears Telegram's 30 messages/s, and the time-critical messages'
latency (called -> "your turn" delivered) is reported apart from the rest.

Advisors are set up like the kiosks (straight in the database, then a real login).
Each advisor calls, waits `service` seconds (the customer walking up), starts and
completes, and calls again: `advisors / service` calls per second at most. Latencies
are read after the load (PostgreSQL for the start times, the sandbox for the delivery
times) so the measurement does not take the CPU it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.auth.users import create_user
from bench.kiosk import Kiosk
from bench.phases import QUEUES, ticket_body
from bench.stats import Summary, summarize
from db.advisors import NewAdvisor, insert_advisor
from db.branches import find_branch
from messaging.topology import is_urgent

PASSWORD = "bench-advisor-password"  # noqa: S105 - a throwaway user of a bench stack
#: After the load, how long the phase waits for the last messages to be sent.
DRAIN_SECONDS = 60.0


@dataclass(frozen=True)
class NearLimit:
    """What the phase adds to a bench run: the urgent and the other messages apart."""

    created: Summary
    urgent: Summary
    everything: Summary

    @property
    def summaries(self) -> list[Summary]:
        return [self.created, self.urgent, self.everything]


async def _advisor_tokens(
    engine: AsyncEngine, client: httpx.AsyncClient, branch: str, count: int
) -> list[str]:
    async with engine.begin() as conn:
        row = await find_branch(conn, branch)
        assert row is not None, branch
        ids = [
            await insert_advisor(
                conn,
                row.id,
                NewAdvisor(f"Asesor {desk}", f"b{uuid.uuid4().hex[:12]}@bench.example", desk,
                           list(QUEUES)),
            )
            for desk in range(1, count + 1)
        ]  # fmt: skip
    tokens = []
    for advisor_id in ids:
        username = f"bench-{uuid.uuid4().hex[:10]}"
        await create_user(engine, username, PASSWORD, "advisor", advisor_id=advisor_id)
        resp = await client.post(
            "/api/auth/token", data={"username": username, "password": PASSWORD}
        )
        resp.raise_for_status()
        tokens.append(str(resp.json()["access_token"]))
    return tokens


async def _desk(client: httpx.AsyncClient, token: str, service: float, stop: asyncio.Event) -> None:
    """One advisor until `stop`: call, let the customer walk up, start, complete."""
    headers = {"Authorization": f"Bearer {token}"}

    async def pause(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    with contextlib.suppress(httpx.HTTPError):
        await client.put("/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=headers)
    while not stop.is_set():
        try:
            me = await client.get("/api/advisors/me", headers=headers)
            held = me.json().get("ticket") if me.status_code == 200 else None
            if held is None:
                nxt = await client.post("/api/advisors/me/call-next", headers=headers)
                if nxt.status_code != 200 or nxt.json().get("ticket") is None:
                    await pause(0.3)
                continue
            if held["status"] == "CALLED":
                await pause(service)
                await client.post(f"/api/tickets/{held['reference']}/start", headers=headers)
            elif held["status"] == "IN_SERVICE":
                await client.post(f"/api/tickets/{held['reference']}/complete", headers=headers)
            else:
                await pause(0.3)
        except httpx.HTTPError:
            await pause(0.3)


async def _create(
    client: httpx.AsyncClient, kiosk: Kiosk, rate: float, seconds: float
) -> tuple[int, int]:
    """Open loop: tickets with a chat each at `rate`; returns (created, failed)."""
    base_chat = random.randint(3 * 10**9, 4 * 10**9)
    t0 = time.perf_counter()

    async def one(i: int) -> bool:
        await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
        body = ticket_body(kiosk.branch, base_chat + i)
        try:
            resp = await client.post("/api/tickets", json=body, headers=kiosk.headers)
        except httpx.HTTPError:
            return False
        return resp.status_code == 201

    done = await asyncio.gather(*(one(i) for i in range(int(rate * seconds))))
    return sum(done), len(done) - sum(done)


_ROWS = text(
    "SELECT m.type, m.chat_id, m.text, m.state, m.scheduled_at, t.created_at, t.called_at"
    " FROM mensaje m JOIN ticket t ON t.reference = m.ticket_reference"
    " JOIN branch b ON b.id = t.branch_id WHERE b.name = :branch"
)


async def _rows(engine: AsyncEngine, branch: str) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(_ROWS, {"branch": branch})).all())


async def _settled(engine: AsyncEngine, branch: str, tickets: int) -> list[Any]:
    """The phase's message rows once every ticket has its "created" row and none is
    PENDING any more (or the drain ran out)."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        rows = await _rows(engine, branch)
        created = sum(1 for r in rows if r.type == "TICKET_CREATED")
        settled = created >= tickets and all(r.state != "PENDING" for r in rows)
        if settled or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(1.0)


async def near_limit(
    client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    database_url: str,
    kiosk: Kiosk,
    *,
    rate: float,
    seconds: float,
    advisors: int,
    service: float,
) -> NearLimit:
    engine = create_async_engine(database_url, pool_size=2)
    try:
        tokens = await _advisor_tokens(engine, client, kiosk.branch, advisors)
        stop = asyncio.Event()
        desks = [asyncio.create_task(_desk(client, t, service, stop)) for t in tokens]
        t0 = time.perf_counter()
        tickets, failed = await _create(client, kiosk, rate, seconds)
        stop.set()
        await asyncio.gather(*desks)
        rows = await _settled(engine, kiosk.branch, tickets)
    finally:
        await engine.dispose()
    received: dict[tuple[int, str], datetime] = {}
    for chat in {r.chat_id for r in rows}:
        resp = await sandbox.get(f"/sandbox/chats/{chat}/messages")
        for message in resp.json() if resp.status_code == 200 else []:
            received[(chat, message["text"])] = datetime.fromisoformat(message["received_at"])
    created: list[float] = []
    urgent: list[float] = []
    everything: list[float] = []
    urgent_total = 0
    for row in rows:
        kind = row.type.split("#")[0]
        urgent_total += is_urgent(kind)
        at = received.get((row.chat_id, row.text))
        if at is None:
            continue
        everything.append((at - row.scheduled_at).total_seconds())
        if kind == "TICKET_CREATED":
            created.append((at - row.created_at).total_seconds())
        elif is_urgent(kind) and row.called_at is not None:
            urgent.append((at - row.called_at).total_seconds())
    times = sorted(received.values())
    span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
    elapsed = time.perf_counter() - t0
    return NearLimit(
        # errors: tickets not created, or created and never delivered
        created=summarize("near-limit created -> delivered", created,
                          failed + tickets - len(created), elapsed),
        urgent=summarize("near-limit called -> urgent msg", urgent,
                         urgent_total - len(urgent), elapsed),
        # thr here is the bot's send rate over the span the sandbox saw messages
        everything=summarize("near-limit all msgs, thr=bot rate", everything,
                             len(rows) - len(everything), span),
    )  # fmt: skip
