"""`python -m bench.history`: what one creation costs Temporal, counted from histories.

Starts a private stack, creates `--count` tickets without a chat and as many with one,
waits until each chat got its message, and prints the mean number of history events per
ticket by type (workflow tasks, local-activity markers, search-attribute upserts, child
starts, timers, updates) for the `ticket-*` workflows and their `notification-*` children.
Every workflow task is a round trip worker <-> server and a sandboxed activation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from pathlib import Path
from tempfile import mkdtemp

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.kiosk import KioskIssuer
from bench.phases import ticket_body
from devstack.ephemeral import start_stack, stop_stack


async def _create(
    client: httpx.AsyncClient, kiosks: KioskIssuer, chats: list[int | None]
) -> list[str]:
    kiosk = await kiosks.new()
    refs = []
    for chat in chats:
        resp = await client.post(
            "/api/tickets", json=ticket_body(kiosk.branch, chat), headers=kiosk.headers
        )
        resp.raise_for_status()
        refs.append(resp.json()["reference"])
    return refs


async def _events(temporal: Client, query: str, wait_closed: bool) -> tuple[int, Counter[str]]:
    """Event types summed over the workflows the visibility query finds."""
    count, events = 0, Counter[str]()
    async for info in temporal.list_workflows(query):
        handle = temporal.get_workflow_handle(info.id, run_id=info.run_id)
        if wait_closed:
            await handle.result()
        count += 1
        async for event in handle.fetch_history_events():
            events[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
    return count, events


def _print(title: str, count: int, events: Counter[str]) -> None:
    print(f"{title}: {count} workflows, events per workflow:")
    for name, n in events.most_common():
        print(f"  {name:<48} {n / max(count, 1):5.2f}")


async def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    parser.add_argument("--count", type=int, default=5)
    args = parser.parse_args()
    stack = await start_stack(Path(mkdtemp(prefix="bench-history-")))
    try:
        kiosks = KioskIssuer(stack.database_url)
        temporal = await Client.connect(stack.temporal_address)
        base = 10**9 + int(time.time()) % 10**6 * 100
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
            plain = await _create(client, kiosks, [None] * args.count)
            chats = await _create(client, kiosks, [base + i for i in range(args.count)])
        for_chats = " OR ".join(f"WorkflowId STARTS_WITH 'notification-{r}'" for r in chats)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = [w async for w in temporal.list_workflows(for_chats)]
            if len(found) >= len(chats):
                break
            await asyncio.sleep(0.5)
        _print("notification (child)", *await _events(temporal, for_chats, True))
        for title, refs in (("ticket, no chat", plain), ("ticket, with chat", chats)):
            ids = ", ".join(f"'ticket-{r}'" for r in refs)
            _print(title, *await _events(temporal, f"WorkflowId IN ({ids})", False))
    finally:
        await stop_stack(stack)
    return 0


if __name__ == "__main__":
    code = asyncio.run(main())
    sys.stdout.flush()
    os._exit(code)
