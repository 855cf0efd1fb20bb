"""Telegram down, proven end to end (issue 14, point 7): a ticket's "created" message goes
through the real path (notification workflow, `mensaje` row, RabbitMQ, the bridge's
handler, a Telegram sandbox answering 5xx or 429) while the time-skipping server runs the
workflow's retry timers. The timers' durations are read from the history (30, 60, 120 s),
the last failure ends FAILED with its reason recorded, and a `retry_after` longer than
the next scheduled delay is what the workflow waits.

The sandbox and the RabbitMQ vhost are this module's own, so the faults it injects reach
no other test and no other bridge consumes its messages.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.publisher import Publisher
from bridge.delivery import RATE_LIMIT_RETRIES, Deliverer
from bridge.limiter import SendLimiter
from bridge.notifications import NotificationHandler, Reporter
from devstack.ephemeral import MANAGEMENT
from devstack.services import delete_vhost, ensure_vhost
from domain.contracts import (
    GIVE_UP_NOTIFICATION,
    MSG_CREATED,
    NewTicket,
    NotificationOutcome,
    notification_workflow_id,
    ticket_workflow_id,
)
from messaging.telegram import TelegramClient
from messaging.topology import declare_exchange, declare_telegram_queue
from telegram_sandbox.app import create_app
from tests.support.data import branch_name, chat_id
from tests.support.ports import free_port
from tests.support.wait import eventually
from tests.workflows.conftest import ticket_worker
from workflows.notification import REPORT_DEADLINE, RETRY_DELAYS
from workflows.ticket import TicketWorkflow

TOKEN = "424242:sandbox-token-telegram-down"
EXCHANGE = "ticketero.tgdown"
QUEUE = "telegram-down-test"
#: The bridge's quick retries of a 5xx, shortened (their real-time waits are not tested here).
QUICK = (0.05, 0.05)

Note = WorkflowHandle[Any, Any]


@dataclass
class Rig:
    env: WorkflowEnvironment
    sandbox: httpx.AsyncClient

    async def fault(self, kind: str, count: int, **extra: object) -> None:
        body = {"method": "sendMessage", "kind": kind, "count": count, **extra}
        resp = await self.sandbox.post("/sandbox/faults", json=body)
        assert resp.status_code == 200, resp.text

    async def sends(self) -> int:
        calls = (await self.sandbox.get("/sandbox/calls")).json()
        return int(calls.get("sendMessage", {}).get("total", 0))

    async def delivered(self, chat: int) -> list[dict[str, Any]]:
        resp = await self.sandbox.get(f"/sandbox/chats/{chat}/messages")
        return list(resp.json()) if resp.status_code == 200 else []

    async def ticket_with_chat(self, chat: int) -> Note:
        """A ticket followed on Telegram: its "created" message's workflow."""
        new = NewTicket(
            reference=uuid.uuid4(),
            branch_office=branch_name("Caida"),
            queue="CAJA",
            national_id_hash=uuid.uuid4().hex,
            national_id_masked="*****999",
            telegram_chat_id=chat,
            fingerprint="f",
            requested_at=datetime.now(UTC),
        )
        client = self.env.client
        handle = await client.start_workflow(
            TicketWorkflow.run, new, id=ticket_workflow_id(new.reference), task_queue=QUEUE
        )
        await handle.execute_update(TicketWorkflow.create, new.fingerprint)
        return client.get_workflow_handle(notification_workflow_id(new.reference, MSG_CREATED, 1))


@pytest.fixture(scope="module")
async def sandbox_url() -> AsyncIterator[str]:
    """The Bot API sandbox served on its own loopback port, in this process."""
    port = free_port()
    app = create_app(TOKEN, "ticketero_caida_bot")
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, what="the sandbox listening")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


@pytest.fixture(scope="module")
async def amqp_url() -> AsyncIterator[str]:
    vhost = f"ticketero_test_tgdown_{uuid.uuid4().hex[:8]}"
    await ensure_vhost(MANAGEMENT, vhost)
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    await delete_vhost(MANAGEMENT, vhost)


@pytest.fixture
async def rig(
    env: WorkflowEnvironment, db: AsyncEngine, sandbox_url: str, amqp_url: str
) -> AsyncIterator[Rig]:
    """Worker (real activities) and bridge handler (real sends to the sandbox)."""
    publisher = Publisher(amqp_url, EXCHANGE)
    async with (
        httpx.AsyncClient(base_url=sandbox_url, timeout=10.0) as sandbox,
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        deliverer = Deliverer(
            TelegramClient(sandbox_url, TOKEN, http),
            SendLimiter(),
            quick_retries=QUICK,
            max_pause=0.05,
        )
        handler = NotificationHandler(db, deliverer, Reporter(env.client))
        connection = await aio_pika.connect_robust(amqp_url)
        channel = await connection.channel()
        queue = await declare_telegram_queue(channel, await declare_exchange(channel, EXCHANGE))
        tag = await queue.consume(handler.handle)
        async with ticket_worker(env, db, publisher, QUEUE):
            yield Rig(env, sandbox)
            await sandbox.delete("/sandbox/faults")
        await queue.cancel(tag)
        await connection.close()
    await publisher.close()


async def history(note: Note) -> list[HistoryEvent]:
    return [event async for event in note.fetch_history_events()]


def retry_timers(events: list[HistoryEvent]) -> list[timedelta]:
    """The retry sleeps the workflow started, in order (not the 24 h report deadlines)."""
    started = [
        e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for e in events
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]
    return [delay for delay in started if delay != REPORT_DEADLINE]


def fired(events: list[HistoryEvent]) -> int:
    return sum(e.event_type == EventType.EVENT_TYPE_TIMER_FIRED for e in events)


def activities_run(events: list[HistoryEvent]) -> list[str]:
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def nth_retry_timer(note: Note, n: int) -> timedelta | None:
    try:
        timers = retry_timers(await history(note))
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return None  # the ticket has not started its message's workflow yet
    return timers[n] if len(timers) > n else None


async def closed(note: Note) -> NotificationOutcome:
    """The outcome once the workflow has closed (polled: awaiting the result would let the
    server skip to the 24 h report deadline while the bridge is still sending)."""

    async def done() -> bool:
        return (await note.describe()).status == WorkflowExecutionStatus.COMPLETED

    await eventually(done, timeout=30, what="the message's workflow closed")
    return NotificationOutcome.model_validate(await note.result())


async def mensaje(db: AsyncEngine, message_id: uuid.UUID) -> Any:
    async with db.connect() as conn:
        return (
            await conn.execute(
                text("SELECT state, attempts, last_error FROM mensaje WHERE id = :id"),
                {"id": message_id},
            )
        ).one()


async def test_telegram_down_retries_after_30_60_120_s_then_fails_with_its_reason(
    rig: Rig, db: AsyncEngine
) -> None:
    await rig.fault("500", count=1000)  # Telegram answers 500 to every send
    chat = chat_id()
    note = await rig.ticket_with_chat(chat)
    waited: list[timedelta] = []
    for n in range(len(RETRY_DELAYS)):
        # Attempt n failed (the bridge reported RETRY): the workflow sleeps; skip the sleep.
        delay = await eventually(
            lambda n=n: nth_retry_timer(note, n), timeout=30, what=f"retry timer {n + 1}"
        )
        waited.append(delay)
        await rig.env.sleep(delay.total_seconds())
    outcome = await closed(note)

    assert [d.total_seconds() for d in waited] == [30, 60, 120]
    assert outcome.state == "FAILED"
    events = await history(note)
    assert activities_run(events).count(GIVE_UP_NOTIFICATION) == 1, "the give-up is recorded"
    row = await mensaje(db, outcome.message_id)
    assert row.state == "FAILED"
    assert row.last_error.startswith("server_error: 500"), row.last_error
    # Four attempts of three sends each (the bridge's quick retries), none delivered.
    assert row.attempts == 4 * (1 + len(QUICK))
    assert await rig.sends() >= 4 * (1 + len(QUICK))
    assert await rig.delivered(chat) == []


async def test_a_retry_after_longer_than_the_next_delay_is_what_the_workflow_waits(
    rig: Rig, db: AsyncEngine
) -> None:
    retry_after = int(RETRY_DELAYS[0].total_seconds()) + 15
    # 429 to the first send and to each of the bridge's inline retries: reported RETRY.
    await rig.fault("429", count=1 + RATE_LIMIT_RETRIES, retry_after=retry_after)
    chat = chat_id()
    note = await rig.ticket_with_chat(chat)
    first = await eventually(lambda: nth_retry_timer(note, 0), timeout=30, what="the retry timer")
    assert first.total_seconds() == retry_after  # not the scheduled 30 s

    sends = await rig.sends()
    await rig.env.sleep(RETRY_DELAYS[0].total_seconds())  # the scheduled delay has passed...
    assert fired(await history(note)) == 0  # ...and the workflow still honours retry_after
    assert await rig.sends() == sends
    await rig.env.sleep(retry_after - RETRY_DELAYS[0].total_seconds())
    outcome = await closed(note)

    assert outcome.state == "SENT"
    assert (await mensaje(db, outcome.message_id)).state == "SENT"
    assert len(await rig.delivered(chat)) == 1
