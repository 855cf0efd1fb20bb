"""`python -m bench`: ticket creation and delivery latency against a running stack.

Phases: (1) open-loop POSTs at a fixed rate (default 50/s), (2) closed-loop
POSTs with N concurrent clients for the sustained maximum, (3) tickets linked
to sandbox chats, timing created -> delivered from the ticket's createdAt to
the moment the sandbox recorded the message. Use `--self-hosted` to start a
private stack (own database, vhost, Temporal) instead of using `make run`'s.
Each phase posts as a kiosk of a branch of its own (bench/kiosk.py), like a branch's
kiosk does, so the per-address rate limit does not throttle the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

from bench.kiosk import Kiosk, KioskIssuer
from bench.stats import Summary, summarize
from settings import get_settings

QUEUES = ("CAJA", "PERSONAL_BANKER", "EMPRESAS", "GERENCIA")


def _body(branch: str, chat: int | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "nationalId": str(random.randint(10**9, 10**10 - 1)),
        "branchOffice": branch,
        "queue": random.choice(QUEUES),
    }
    if chat is not None:
        body["telegramChatId"] = chat
    return body


async def _post(
    client: httpx.AsyncClient, kiosk: Kiosk, chat: int | None = None
) -> tuple[float, httpx.Response | None]:
    body = _body(kiosk.branch, chat)
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
        return await _post(client, kiosk)

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
            lat, resp = await _post(client, kiosk)
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
        _, resp = await _post(client, kiosk, base_chat + i)
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


async def run(
    api_url: str, sandbox_url: str, database_url: str, args: argparse.Namespace
) -> list[Summary]:
    kiosks = KioskIssuer(database_url)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with (
        httpx.AsyncClient(base_url=api_url, timeout=30, limits=limits) as client,
        httpx.AsyncClient(base_url=sandbox_url, timeout=30, limits=limits) as sandbox,
    ):
        health = await client.get("/actuator/health")
        if health.status_code != 200:
            raise SystemExit(f"stack not healthy at {api_url}: {health.text}")
        # warm-up: connections, caches, JIT of the dev server
        await fixed_rate(client, await kiosks.new(), 10, 2)
        results = [
            await fixed_rate(client, await kiosks.new(), args.rate, args.seconds),
            await saturate(client, await kiosks.new(), args.workers, args.seconds),
        ]
        if (await sandbox.get("/healthz")).status_code == 200:
            kiosk = await kiosks.new()
            results.append(
                await delivery(client, sandbox, kiosk, args.delivery_rate, args.delivery_count)
            )
        return results


async def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8080")
    parser.add_argument("--sandbox", default="http://127.0.0.1:8081")
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop POSTs per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--workers", type=int, default=32, help="closed-loop clients")
    parser.add_argument("--delivery-rate", type=float, default=20.0)
    parser.add_argument("--delivery-count", type=int, default=200)
    parser.add_argument("--self-hosted", action="store_true", help="start a private stack")
    args = parser.parse_args()

    if args.self_hosted:
        from tempfile import mkdtemp

        from devstack.ephemeral import start_stack, stop_stack

        stack = await start_stack(Path(mkdtemp(prefix="bench-")))
        try:
            results = await run(stack.api_url, stack.sandbox_url, stack.database_url, args)
        finally:
            await stop_stack(stack)
    else:
        results = await run(args.api, args.sandbox, get_settings().database_url, args)
    print()
    for summary in results:
        print(summary.line())
    return 0


if __name__ == "__main__":
    code = asyncio.run(main())
    sys.stdout.flush()
    os._exit(code)  # the Temporal-free client still exits hard, like the test runner
