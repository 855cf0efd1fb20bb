"""A whole branch day through the API, with the no-show and day-end timers driven by
the time-skipping test server: the test jumps the clock instead of waiting."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import duration_pb2, empty_pb2
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client

from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.stack import Stack, start_stack, stop_stack
from tests.support.staff import Staff, add_advisor, add_user
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


class Clock:
    """The test server's clock: real time until we tell it to jump."""

    def __init__(self, client: Client) -> None:
        self._service = client.service_client.test_service

    async def now(self) -> datetime:
        return (await self._service.get_current_time(empty_pb2.Empty())).time.ToDatetime()

    async def jump(self, by: timedelta) -> None:
        duration = duration_pb2.Duration()
        duration.FromTimedelta(by)
        await self._service.unlock_time_skipping_with_sleep(SleepRequest(duration=duration))


@pytest.fixture(scope="module")
async def day(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    running = await start_stack(Path(tmp_path_factory.mktemp("day")), time_skipping=True)
    try:
        yield running
    finally:
        await stop_stack(running)


@pytest.fixture(scope="module")
async def api(day: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=day.api_url, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="module")
async def db(day: Stack) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(day.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def clock(day: Stack) -> Clock:
    return Clock(await Client.connect(day.temporal_address))


async def ticket(api: httpx.AsyncClient, reference: str) -> dict[str, Any]:
    body: dict[str, Any] = (await api.get(f"/api/tickets/{reference}")).json()
    return body


async def until_status(api: httpx.AsyncClient, reference: str, status: str) -> None:
    async def probe() -> bool:
        return (await ticket(api, reference))["status"] == status

    await eventually(probe, timeout=20, what=f"{reference} to become {status}")


async def take_next(api: httpx.AsyncClient, advisor: Staff) -> dict[str, Any]:
    """The ticket the advisor is given: already in hand (automatic) or by call-next."""

    async def in_hand() -> dict[str, Any] | None:
        me = (await api.get("/api/advisors/me", headers=advisor.headers)).json()
        held = me["ticket"]
        if held is None:
            called = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
            held = called.json().get("ticket") if called.status_code == 200 else None
        return held if held and held["status"] == "CALLED" else None

    return await eventually(in_hand, timeout=20, what="a called ticket for the advisor")


async def serve(api: httpx.AsyncClient, advisor: Staff, reference: str) -> None:
    for action, status in (("start", "IN_SERVICE"), ("complete", "COMPLETED")):
        resp = await api.post(f"/api/tickets/{reference}/{action}", headers=advisor.headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == status


async def test_a_whole_day(api: httpx.AsyncClient, db: AsyncEngine, clock: Clock) -> None:
    branch = await add_branch(api, "Dia")
    made = {}
    for name, queue in (
        ("c1", "CAJA"),
        ("c2", "CAJA"),
        ("c3", "CAJA"),
        ("p1", "PERSONAL_BANKER"),
        ("e1", "EMPRESAS"),
        ("g1", "GERENCIA"),
    ):
        resp = await api.post("/api/tickets", json=ticket_body(branch, queue))
        assert resp.status_code == 201, resp.text
        made[name] = resp.json()
    ref = {name: body["reference"] for name, body in made.items()}
    teller = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    banker = await add_advisor(db, api, branch, desk=2, queues=["PERSONAL_BANKER"])
    business = await add_advisor(db, api, branch, desk=3, queues=["EMPRESAS"])
    supervisor = await add_user(db, api, "supervisor")

    # A customer gives up.
    cancelled = await api.post(f"/api/tickets/{ref['c3']}/cancel")
    assert cancelled.json()["status"] == "CANCELLED"

    # The teller serves c1, then is given c2, who does not come: the timer marks a no-show.
    assert (await take_next(api, teller))["reference"] == ref["c1"]
    await serve(api, teller, ref["c1"])
    assert (await take_next(api, teller))["reference"] == ref["c2"]
    await clock.jump(timedelta(minutes=5, seconds=5))
    await until_status(api, ref["c2"], "NO_SHOW")
    # c2 turns up after all: recalled once, then served.
    recalled = await api.post(f"/api/tickets/{ref['c2']}/recall", headers=teller.headers)
    assert recalled.status_code == 200 and recalled.json()["status"] == "CALLED", recalled.text
    await serve(api, teller, ref["c2"])

    # The personal banker sends p1 to business banking; p1 keeps its arrival time,
    # so it is ahead of e1 there.
    assert (await take_next(api, banker))["reference"] == ref["p1"]
    moved = await api.post(
        f"/api/tickets/{ref['p1']}/transfer",
        json={"queue": "EMPRESAS", "reason": "trámite de empresa"},
        headers=banker.headers,
    )
    assert moved.status_code == 200 and moved.json()["position"] == 1, moved.text
    assert (await ticket(api, ref["e1"]))["position"] == 2
    assert (await take_next(api, business))["reference"] == ref["p1"]
    await serve(api, business, ref["p1"])
    assert (await take_next(api, business))["reference"] == ref["e1"]
    await serve(api, business, ref["e1"])

    # Nobody serves GERENCIA: g1 waits all day and the supervisor sees why.
    alerts = (await api.get(f"/api/branches/{branch}/alerts", headers=supervisor.headers)).json()[
        "alerts"
    ]
    assert any(a["kind"] == "QUEUE_UNATTENDED" and a["queue"] == "GERENCIA" for a in alerts)
    assert (await ticket(api, ref["g1"]))["status"] == "WAITING"

    # Day end: what is still open expires.
    expires = datetime.fromisoformat(made["g1"]["expiresAt"]).replace(tzinfo=None)
    await clock.jump(expires - await clock.now() + timedelta(minutes=1))
    await until_status(api, ref["g1"], "EXPIRED")

    expected = {
        "c1": ["CREATE", "CALL", "START", "COMPLETE"],
        "c2": ["CREATE", "CALL", "NO_SHOW", "RECALL", "START", "COMPLETE"],
        "c3": ["CREATE", "CANCEL"],
        "p1": ["CREATE", "CALL", "TRANSFER", "CALL", "START", "COMPLETE"],
        "e1": ["CREATE", "CALL", "START", "COMPLETE"],
        "g1": ["CREATE", "EXPIRE"],
    }
    for name, actions in expected.items():
        history = await api.get(f"/api/tickets/{ref[name]}/history", headers=supervisor.headers)
        assert history.status_code == 200, history.text
        events = history.json()["events"]
        # Complete and ordered: each event starts where the previous one ended.
        for before, after in itertools.pairwise(events):
            assert after["fromStatus"] == before["toStatus"], (name, events)
            # As instants: "…58Z" and "…58.032000Z" do not order as strings.
            assert _instant(after["at"]) >= _instant(before["at"]), (name, events)
        assert [e["action"] for e in events if e["action"] != "NOTIFY"] == actions, (name, events)
    no_show = next(
        e
        for e in (
            await api.get(f"/api/tickets/{ref['c2']}/history", headers=supervisor.headers)
        ).json()["events"]
        if e["action"] == "NO_SHOW"
    )
    assert no_show["actor"] == "system"


async def timers_started(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(1 for e in history.events if e.HasField("timer_started_event_attributes"))


async def test_telegram_down_longer_than_the_first_retries(
    day: Stack, api: httpx.AsyncClient, db: AsyncEngine, clock: Clock
) -> None:
    """Telegram unreachable across two scheduled retries: the message is delivered once,
    on the third scheduled attempt (at +30 s, then +60 s), after Telegram returns."""
    client = await Client.connect(day.temporal_address)
    async with httpx.AsyncClient(base_url=day.sandbox_url, timeout=30) as sandbox:
        await sandbox.post("/sandbox/outage", json={"seconds": 3600})
        try:
            chat = 7_700_000_000 + int(datetime.now().timestamp()) % 1_000_000
            made = (
                await api.post(
                    "/api/tickets", json=ticket_body(await add_branch(api), telegramChatId=chat)
                )
            ).json()
            workflow_id = f"notification-{made['reference']}-ticket_created"

            async def waiting_for(n: int) -> bool:
                return await timers_started(client, workflow_id) >= n

            await eventually(lambda: waiting_for(1), timeout=20, what="the 30 s retry timer")
            await clock.jump(timedelta(seconds=31))
            await eventually(lambda: waiting_for(2), timeout=20, what="the 60 s retry timer")
        finally:
            await sandbox.delete("/sandbox/outage")
        assert (await sandbox.get(f"/sandbox/chats/{chat}/messages")).status_code == 404
        await clock.jump(timedelta(seconds=61))

        async def delivered() -> list[dict[str, Any]] | None:
            got = await sandbox.get(f"/sandbox/chats/{chat}/messages")
            return got.json() if got.status_code == 200 and got.json() else None

        messages = await eventually(delivered, timeout=20, what="delivery after the outage")
    assert len(messages) == 1 and made["number"] in messages[0]["text"]
    result = await client.get_workflow_handle(workflow_id).result()
    assert result["state"] == "SENT"


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
