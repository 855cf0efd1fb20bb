"""The steady load: ticket lives created, called, started and completed through the API.

Each life is a customer with a Telegram chat of their own (linked at creation, so the
created / turn-near / your-turn messages flow through RabbitMQ, a bridge and the
sandbox). Advisors at their desks serve whatever they are given or call next; every
request goes through `Balanced`, so a failure is recorded and retried on the other API.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.users import create_user
from chaos.client import Balanced
from db.advisors import NewAdvisor, insert_advisor
from db.branches import create_branch

QUEUES = ("CAJA", "PERSONAL_BANKER")
PASSWORD = "chaos-password-123"  # noqa: S105 - a throwaway stack's advisors
CREATE_PATIENCE = 60.0  # seconds a customer keeps retrying one creation
ACTION_PATIENCE = 60.0
IDLE_PAUSE = 0.3


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds` (a pace, not a synchronisation), or less if `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


@dataclass
class Life:
    key: str  # Idempotency-Key: a retry lands on the same ticket
    chat: int
    started: float  # time.time() of the first attempt
    probe: bool = False
    reference: str | None = None  # set once a 201 acknowledged the creation
    acknowledged_at: float | None = None


@dataclass
class Load:
    api: Balanced
    branch: str
    lives: list[Life] = field(default_factory=list)
    advisor_tokens: list[str] = field(default_factory=list)
    _chats: int = field(default_factory=lambda: random.randint(10**9, 2 * 10**9))

    async def create(self, *, probe: bool = False) -> Life:
        self._chats += 1
        life = Life(uuid.uuid4().hex, self._chats, time.time(), probe)
        self.lives.append(life)
        body = {
            "nationalId": str(random.randint(10**9, 10**10 - 1)),
            "branchOffice": self.branch,
            "queue": random.choice(QUEUES),
            "telegramChatId": life.chat,
        }
        resp = await self.api.send(
            "create",
            "POST",
            "/api/tickets",
            deadline=time.monotonic() + CREATE_PATIENCE,
            json=body,
            headers={"Idempotency-Key": life.key},
        )
        if resp is not None and resp.status_code == 201:
            life.reference = str(resp.json()["reference"])
            life.acknowledged_at = time.time()
        return life

    async def arrivals(self, rate: float, stop: asyncio.Event) -> None:
        """Open loop: a new customer every 1/rate seconds until `stop`."""
        pending: set[asyncio.Task[Life]] = set()
        t0, i = time.monotonic(), 0
        while not stop.is_set():
            task = asyncio.create_task(self.create())
            pending.add(task)
            task.add_done_callback(pending.discard)
            i += 1
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                # the schedule of arrivals, ended early by `stop`
                await pause(stop, delay)
        if pending:
            await asyncio.gather(*pending)

    async def desk(self, token: str, stop: asyncio.Event) -> None:
        """One advisor: start and complete what they hold, else call next, until `stop`."""
        headers = {"Authorization": f"Bearer {token}"}

        async def call(what: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
            return await self.api.send(
                what,
                method,
                path,
                deadline=time.monotonic() + ACTION_PATIENCE,
                headers=headers,
                **kw,
            )

        await call("status", "PUT", "/api/advisors/me/status", json={"status": "AVAILABLE"})
        while not stop.is_set():
            me = await call("desk", "GET", "/api/advisors/me")
            held = me.json().get("ticket") if me is not None and me.status_code == 200 else None
            if held is None:
                nxt = await call("call-next", "POST", "/api/advisors/me/call-next")
                if nxt is None or nxt.status_code != 200 or nxt.json().get("ticket") is None:
                    # nothing waiting: an advisor looks up again shortly
                    await pause(stop, IDLE_PAUSE)
                continue
            action = {"CALLED": "start", "IN_SERVICE": "complete"}.get(held["status"])
            if action is not None:
                await call(action, "POST", f"/api/tickets/{held['reference']}/{action}")
            else:
                await pause(stop, IDLE_PAUSE)


async def prepare(engine: AsyncEngine, api: Balanced, advisors: int) -> Load:
    """A branch open at all hours with `advisors` advisors serving every load queue."""
    branch = f"Caos {uuid.uuid4().hex[:8]}"
    ids: list[int] = []
    async with engine.begin() as conn:
        row = await create_branch(conn, branch, "America/Santiago", open_all_hours=True)
        assert row is not None
        for desk in range(1, advisors + 1):
            new = NewAdvisor(
                f"Asesor {desk}", f"caos{uuid.uuid4().hex[:10]}@test.example", desk, list(QUEUES)
            )
            ids.append(await insert_advisor(conn, row.id, new))
    load = Load(api, branch)
    for advisor_id in ids:
        username = f"caos-{uuid.uuid4().hex[:10]}"
        await create_user(engine, username, PASSWORD, "advisor", advisor_id=advisor_id)
        resp = await api.send(
            "login",
            "POST",
            "/api/auth/token",
            deadline=time.monotonic() + 30,
            data={"username": username, "password": PASSWORD},
        )
        assert resp is not None and resp.status_code == 200, resp and resp.text
        load.advisor_tokens.append(str(resp.json()["access_token"]))
    return load
