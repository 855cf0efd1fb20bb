"""The bench's load phases: open loop at a fixed rate, closed loop for the sustained
maximum, and created -> delivered through the Telegram sandbox."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime

import httpx

from bench.kiosk import Kiosk
from bench.stats import Summary, summarize

QUEUES = ("CAJA", "PERSONAL_BANKER", "EMPRESAS", "GERENCIA")


def ticket_body(branch: str, chat: int | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "nationalId": str(random.randint(10**9, 10**10 - 1)),
        "branchOffice": branch,
        "queue": random.choice(QUEUES),
    }
    if chat is not None:
        body["telegramChatId"] = chat
    return body


async def post_ticket(
    client: httpx.AsyncClient, kiosk: Kiosk, chat: int | None = None
) -> tuple[float, httpx.Response | None]:
    body = ticket_body(kiosk.branch, chat)
    start = time.perf_counter()
    try:
        resp = await client.post("/api/tickets", json=body, headers=kiosk.headers)
    except httpx.HTTPError:
        return time.perf_counter() - start, None
    return time.perf_counter() - start, resp


async def fixed_rate(
    client: httpx.AsyncClient, kiosk: Kiosk, rate: float, seconds: float
) -> Summary:
    """Open loop: requests leave on schedule whether or not earlier ones finished."""
    total = int(rate * seconds)
    t0 = time.perf_counter()

    async def one(i: int) -> tuple[float, httpx.Response | None]:
        await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
        return await post_ticket(client, kiosk)

    results = await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - t0
    ok = [lat for lat, r in results if r is not None and r.status_code == 201]
    return summarize(f"POST /api/tickets @ {rate:g}/s", ok, len(results) - len(ok), elapsed)


async def saturate(
    client: httpx.AsyncClient, kiosk: Kiosk, workers: int, seconds: float
) -> Summary:
    """Closed loop: `workers` clients post back to back; throughput is the sustained max."""
    deadline = time.perf_counter() + seconds
    ok: list[float] = []
    errors = 0

    async def loop() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            lat, resp = await post_ticket(client, kiosk)
            if resp is not None and resp.status_code == 201:
                ok.append(lat)
            else:
                errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(workers)))
    return summarize(f"POST saturated ({workers} clients)", ok, errors, time.perf_counter() - t0)


async def delivery(
    client: httpx.AsyncClient, sandbox: httpx.AsyncClient, kiosk: Kiosk, rate: float, count: int
) -> Summary:
    """Created -> delivered: ticket createdAt to the sandbox's received_at, per message.

    Tickets go out at `rate`; the sandbox is read twice a second (not per chat) so the
    measurement does not steal the CPU it measures.
    """
    base_chat = random.randint(10**9, 2 * 10**9)
    created: dict[int, datetime] = {}
    t0 = time.perf_counter()

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
        _, resp = await post_ticket(client, kiosk, base_chat + i)
        if resp is not None and resp.status_code == 201:
            created[base_chat + i] = datetime.fromisoformat(resp.json()["createdAt"])

    await asyncio.gather(*(one(i) for i in range(count)))
    received: dict[int, datetime] = {}
    deadline = time.perf_counter() + 60
    while len(received) < len(created) and time.perf_counter() < deadline:
        for chat in (await sandbox.get("/sandbox/chats")).json():
            last = chat.get("last_message")
            if chat["id"] in created and last:
                received[chat["id"]] = datetime.fromisoformat(last["received_at"])
        await asyncio.sleep(0.5)
    latencies = [(received[c] - created[c]).total_seconds() for c in received]
    return summarize(
        f"created -> delivered @ {rate:g}/s",
        latencies,
        count - len(latencies),
        time.perf_counter() - t0,
    )
