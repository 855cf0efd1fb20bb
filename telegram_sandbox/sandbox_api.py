"""Sandbox-only JSON API: play the customer, inspect deliveries, inject faults.

Tests and demos drive the "phone" through these endpoints; none of them
exists in the real Bot API.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, field_validator

from telegram_sandbox.botapi import BotApi
from telegram_sandbox.state import Fault, FaultKind, JsonDict, SandboxState

PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SendBody(BaseModel):
    text: str = Field(min_length=1, max_length=4096)
    first_name: str | None = Field(default=None, min_length=1, max_length=64)
    language_code: str = Field(default="es", min_length=2, max_length=16)


class StartBody(BaseModel):
    payload: str
    chat_id: int | None = None
    first_name: str | None = Field(default=None, min_length=1, max_length=64)
    language_code: str = Field(default="es", min_length=2, max_length=16)


class FaultBody(BaseModel):
    method: str
    kind: FaultKind
    count: int = Field(default=1, ge=1, le=10_000)
    retry_after: int = Field(default=1, ge=0, le=3600)
    delay_seconds: float = Field(default=30.0, gt=0, le=600)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_as_text(cls, value: Any) -> Any:
        """Accept `429` as well as `"429"`."""
        return str(value) if isinstance(value, int) else value


class OutageBody(BaseModel):
    seconds: float = Field(gt=0, le=86_400)


def start_user(
    state: SandboxState,
    payload: str,
    chat_id: int | None,
    first_name: str | None,
    language_code: str = "es",
) -> JsonDict:
    """The customer opens t.me/<bot>?start=<payload> and presses Start."""
    if not PAYLOAD_RE.fullmatch(payload):
        raise ValueError("payload must be 1-64 characters of A-Z, a-z, 0-9, _ and -")
    if chat_id is None:
        chat_id = state.allocate_chat_id()
    return state.user_message(chat_id, f"/start {payload}", first_name, language_code)


def sandbox_router(state: SandboxState, api: BotApi) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "UP"}

    @router.get("/sandbox/chats")
    async def list_chats() -> list[JsonDict]:
        return [chat.as_json() for chat in state.chats.values()]

    @router.get("/sandbox/chats/{chat_id}/messages")
    async def chat_messages(chat_id: int, since_message_id: int = 0) -> list[JsonDict]:
        messages = state.bot_messages(chat_id, since_message_id)
        if messages is None:
            raise HTTPException(404, "chat not found")
        return [m.as_json() for m in messages]

    @router.post("/sandbox/chats/{chat_id}/send")
    async def user_sends(chat_id: int, body: SendBody) -> JsonDict:
        if chat_id == 0:
            raise HTTPException(400, "chat_id must not be 0")
        return state.user_message(chat_id, body.text, body.first_name, body.language_code)

    @router.post("/sandbox/start")
    async def user_starts(body: StartBody) -> JsonDict:
        if body.chat_id == 0:
            raise HTTPException(400, "chat_id must not be 0")
        try:
            return start_user(
                state, body.payload, body.chat_id, body.first_name, body.language_code
            )
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc

    @router.get("/sandbox/updates")
    async def pending_updates() -> JsonDict:
        return {"pending": state.updates, "waiting_pollers": state.waiting_pollers}

    @router.get("/sandbox/faults")
    async def list_faults() -> JsonDict:
        return {"pending": [f.as_json() for f in state.faults]}

    @router.post("/sandbox/faults")
    async def add_fault(body: FaultBody) -> JsonDict:
        method = api.canonical(body.method)
        if method is None:
            raise HTTPException(400, f"unknown Bot API method {body.method!r}")
        fault = Fault(method, body.kind, body.count, body.retry_after, body.delay_seconds)
        state.add_fault(fault)
        return {"pending": [f.as_json() for f in state.faults]}

    @router.delete("/sandbox/faults")
    async def clear_faults() -> JsonDict:
        state.faults.clear()
        return {"pending": []}

    def outage_json() -> JsonDict:
        remaining = state.outage_remaining()
        return {"active": remaining > 0, "remaining_seconds": round(remaining, 3)}

    @router.get("/sandbox/outage")
    async def get_outage() -> JsonDict:
        return outage_json()

    @router.post("/sandbox/outage")
    async def start_outage(body: OutageBody) -> JsonDict:
        state.start_outage(body.seconds)
        return outage_json()

    @router.delete("/sandbox/outage")
    async def end_outage() -> JsonDict:
        state.end_outage()
        return outage_json()

    @router.get("/sandbox/calls")
    async def calls() -> dict[str, dict[str, int]]:
        return state.calls_json()

    @router.post("/sandbox/reset")
    async def reset() -> dict[str, str]:
        state.reset()
        return {"status": "reset"}

    return router
