"""The bridge alone near Telegram's limit: notifications published straight to RabbitMQ at
a rate just over 30/s, one in `urgent_every` a "your turn", latency from publish to the
sandbox's receipt, the urgent ones apart.

Upstream of the bridge (API, worker, Temporal) is left out on purpose: on a shared
2-core box those cannot produce 30 messages/s, so the full-stack phase
(bench/near_limit.py) never loads the bridge's limiter. Each message has a real
`mensaje` row (the bridge claims it) under one ticket of the phase's branch, a chat of
its own (no per-chat spacing), and a workflow id no workflow has (the bridge's report
is answered NOT_FOUND, as for a closed workflow).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from activities.publisher import Publisher
from bench.kiosk import Kiosk
from bench.phases import ticket_body
from bench.stats import Summary, summarize
from db.messages import ensure_pending
from domain.contracts import MSG_CREATED, MSG_YOUR_TURN, message_key, notification_workflow_id
from messaging.messages import OutboundTelegram

DRAIN_SECONDS = 60.0


async def _messages(
    client: httpx.AsyncClient, database_url: str, kiosk: Kiosk, count: int, urgent_every: int
) -> list[OutboundTelegram]:
    resp = await client.post("/api/tickets", json=ticket_body(kiosk.branch), headers=kiosk.headers)
    resp.raise_for_status()
    reference = uuid.UUID(resp.json()["reference"])
    created_at = datetime.fromisoformat(resp.json()["createdAt"])
    base_chat = random.randint(5 * 10**9, 6 * 10**9)
    engine = create_async_engine(database_url, pool_size=1)
    out = []
    try:
        for i in range(count):
            kind = MSG_YOUR_TURN if (i + 1) % urgent_every == 0 else MSG_CREATED
            row = await ensure_pending(
                engine,
                ticket_reference=reference,
                kind=message_key(kind, i + 2),
                chat_id=base_chat + i,
                body=f"bench {kind} {i}",
                scheduled_at=datetime.now(UTC),
            )
            out.append(
                OutboundTelegram(
                    message_id=row.id,
                    kind=kind,
                    chat_id=row.chat_id,
                    text=row.text,
                    ticket_reference=reference,
                    workflow_id=notification_workflow_id(reference, kind, i + 2),
                    ticket_created_at=created_at,
                    attempt=0,
                )
            )
    finally:
        await engine.dispose()
    return out


async def bridge_near_limit(
    client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    database_url: str,
    rabbitmq_url: str,
    exchange_name: str,
    kiosk: Kiosk,
    *,
    rate: float,
    seconds: float,
    urgent_every: int,
) -> tuple[Summary, Summary, Summary]:
    """(normal, urgent, all) publish -> delivered; the last one's thr is the bot's rate."""
    messages = await _messages(
        client, database_url, kiosk, int(rate * seconds), max(urgent_every, 1)
    )
    published: dict[int, datetime] = {}
    publisher = Publisher(rabbitmq_url, exchange_name)  # the worker's own publishing path
    try:
        t0 = time.perf_counter()
        for i, out in enumerate(messages):
            await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            published[out.chat_id] = datetime.now(UTC)
            await publisher.publish_telegram(out)
    finally:
        await publisher.close()
    received: dict[int, datetime] = {}
    deadline = time.perf_counter() + DRAIN_SECONDS
    while len(received) < len(messages) and time.perf_counter() < deadline:
        await asyncio.sleep(1.0)
        for chat in (await sandbox.get("/sandbox/chats")).json():
            last = chat.get("last_message")
            if chat["id"] in published and last:
                received[chat["id"]] = datetime.fromisoformat(last["received_at"])
    urgent = {out.chat_id for out in messages if out.kind == MSG_YOUR_TURN}
    latency = {c: (received[c] - published[c]).total_seconds() for c in received}
    times = sorted(received.values())
    span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
    normal_lat = [v for c, v in latency.items() if c not in urgent]
    urgent_lat = [v for c, v in latency.items() if c in urgent]
    label = f"bridge @ {rate:g}/s"
    return (
        summarize(f"{label} normal", normal_lat, len(messages) - len(urgent) - len(normal_lat),
                  span),
        summarize(f"{label} urgent (your turn)", urgent_lat, len(urgent) - len(urgent_lat),
                  span),
        summarize(f"{label} all, thr=bot rate", list(latency.values()),
                  len(messages) - len(latency), span),
    )  # fmt: skip
