"""Point 3 of issue 14 on the test stack (dev server, worker and API processes): the
process that reserved a ticket is SIGKILLed before its CALL, and a client retrying its
creation through the API. The time-skipping versions: test_reservation_timer.py."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from assignment import claims, dispatcher
from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.stack import Stack
from tests.support.staff import add_advisor
from tests.support.wait import eventually

#: How soon the branch's own dispatch would send a stranded reservation's CALL again.
SWEEP = dispatcher.STRANDED_AFTER
#: A process that reserves the next ticket for an advisor (as "call next" does), says so,
#: and would send the CALL next: the test kills it first.
RESERVE_THEN_HANG = """
import asyncio, os, sys
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from assignment import dispatcher

async def main() -> None:
    engine = create_async_engine(os.environ["DATABASE_URL"])
    client = await Client.connect(
        os.environ["TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    claim = await dispatcher.reserve(engine, client, int(sys.argv[1]), auto=False)
    print("reserved" if claim else "nothing", claim and claim.reference, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_reserving_process_killed_before_its_call_leaves_no_stuck_ticket(
    api: httpx.AsyncClient, db: AsyncEngine, stack: Stack
) -> None:
    """On the stack: the process that reserved the ticket is SIGKILLed before its CALL;
    nothing else happens in the branch, yet the ticket is called within seconds."""
    branch = await add_branch(api)
    advisor = await add_advisor(db, api, branch, desk=21, queues=["CAJA"])
    resp = await api.post("/api/tickets", json=ticket_body(branch))
    assert resp.status_code == 201, resp.text
    reference = resp.json()["reference"]
    reserver = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RESERVE_THEN_HANG,
        str(advisor.advisor_id),
        env={**os.environ, **stack.env},
        stdout=asyncio.subprocess.PIPE,
    )
    assert reserver.stdout is not None
    try:
        async with asyncio.timeout(30):
            said = (await reserver.stdout.readline()).decode().split()
    finally:
        reserver.send_signal(signal.SIGKILL)
        await reserver.wait()
    killed_at = time.monotonic()
    assert said == ["reserved", reference]

    async def called() -> dict[str, object] | None:
        got = (await api.get(f"/api/tickets/{reference}")).json()
        return got if got["status"] == "CALLED" else None

    ticket = await eventually(called, timeout=SWEEP.total_seconds() / 2, what="the CALL")
    took = time.monotonic() - killed_at
    assert ticket["desk"] == 21
    assert took < SWEEP.total_seconds() / 2, f"called {took:.1f} s after the kill"


async def test_a_client_retrying_its_creation_gets_its_ticket_dispatched(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    """Through the API: the same Idempotency-Key again is a replay, and it dispatches."""
    branch = await add_branch(api)
    advisor = await add_advisor(db, api, branch, desk=22, queues=["CAJA"])
    body, key = ticket_body(branch), {"Idempotency-Key": f"retry-{uuid.uuid4().hex}"}
    first = await api.post("/api/tickets", json=body, headers=key)
    assert first.status_code == 201, first.text
    reference = first.json()["reference"]
    # The advisor is AVAILABLE but the dispatch that should follow was lost (the process
    # that set the status died before it): the ticket just waits.
    await claims.set_status(db, advisor.advisor_id, "AVAILABLE", datetime.now(UTC))

    again = await api.post("/api/tickets", json=body, headers=key)
    assert again.headers.get("Idempotent-Replayed") == "true", again.text
    assert again.json()["reference"] == reference

    async def called() -> dict[str, object] | None:
        got = (await api.get(f"/api/tickets/{reference}")).json()
        return got if got["status"] == "CALLED" else None

    assert (await eventually(called, timeout=15, what="the ticket called"))["desk"] == 22
