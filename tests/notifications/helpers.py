"""Reading the sandbox, the broker, the database and the metrics from notification tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.supervisor import ProcessSpec
from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.stack import Stack
from tests.support.wait import eventually


@dataclass
class Phone:
    sandbox: httpx.AsyncClient

    async def messages(self, chat: int) -> list[dict[str, Any]]:
        resp = await self.sandbox.get(f"/sandbox/chats/{chat}/messages")
        return list(resp.json()) if resp.status_code == 200 else []

    async def wait_messages(
        self, chat: int, count: int, within: float = 15.0
    ) -> list[dict[str, Any]]:
        async def enough() -> list[dict[str, Any]] | None:
            got = await self.messages(chat)
            return got if len(got) >= count else None

        return await eventually(enough, timeout=within, what=f"{count} messages in chat {chat}")

    async def send(self, chat: int, text_: str, language: str = "es") -> None:
        body = {"text": text_, "language_code": language}
        resp = await self.sandbox.post(f"/sandbox/chats/{chat}/send", json=body)
        assert resp.status_code == 200, resp.text

    async def start(self, chat: int, payload: str, language: str = "es") -> None:
        body = {"payload": payload, "chat_id": chat, "language_code": language}
        resp = await self.sandbox.post("/sandbox/start", json=body)
        assert resp.status_code == 200, resp.text

    async def fault(self, kind: str, **extra: Any) -> None:
        body = {"method": "sendMessage", "kind": kind, **extra}
        resp = await self.sandbox.post("/sandbox/faults", json=body)
        assert resp.status_code == 200, resp.text

    async def pending_faults(self) -> int:
        return len((await self.sandbox.get("/sandbox/faults")).json()["pending"])

    async def send_calls(self) -> dict[str, int]:
        calls = (await self.sandbox.get("/sandbox/calls")).json()
        return dict(calls.get("sendMessage", {}))


async def create_ticket(api: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    resp = await api.post("/api/tickets", json=ticket_body(await add_branch(api), **extra))
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def mensaje(db: AsyncEngine, reference: str, kind: str = "TICKET_CREATED") -> Any:
    async with db.connect() as conn:
        return (
            await conn.execute(
                text(
                    "SELECT state, attempts, last_error FROM mensaje"
                    " WHERE ticket_reference = :r AND type = :k"
                ),
                {"r": uuid.UUID(reference), "k": kind},
            )
        ).first()


async def wait_mensaje(db: AsyncEngine, reference: str, state: str, within: float = 15.0) -> Any:
    async def final() -> Any:
        row = await mensaje(db, reference)
        return row if row is not None and row.state == state else None

    return await eventually(final, timeout=within, what=f"mensaje {state}")


async def error_count(api: httpx.AsyncClient, reason: str) -> float:
    body = (await api.get("/actuator/prometheus")).text
    prefix = f'telegram_errors_total{{reason="{reason}"}}'
    for line in body.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return 0.0


async def bot_api_calls(sandbox: httpx.AsyncClient, method: str) -> int:
    calls = (await sandbox.get("/sandbox/calls")).json()
    return int(calls.get(method, {}).get("total", 0))


async def bridge_ready(sandbox: httpx.AsyncClient, within: float = 20.0) -> None:
    """Some bridge has started polling (it consumes its queues before it polls)."""

    async def ready() -> bool:
        pollers = (await sandbox.get("/sandbox/updates")).json()["waiting_pollers"]
        return pollers >= 1 and await bot_api_calls(sandbox, "deleteWebhook") >= 1

    await eventually(ready, timeout=within, interval=0.1, what="the bridge polling")


async def start_bridge(
    stack: Stack, sandbox: httpx.AsyncClient, spec: ProcessSpec, first_call: str = "deleteWebhook"
) -> None:
    """Start a bridge process and wait until it consumes: it calls `first_call` right after.

    (The broker's management figures lag by seconds, so they cannot tell.)
    """
    before = await bot_api_calls(sandbox, first_call)
    await stack.supervisor.start(spec)

    async def called() -> bool:
        return await bot_api_calls(sandbox, first_call) > before

    await eventually(called, timeout=20, interval=0.05, what=f"{spec.name} calling {first_call}")
