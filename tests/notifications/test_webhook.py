"""Webhook mode: Telegram → API (secret checked) → RabbitMQ → bridge → reply."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator

import httpx
import pytest

from settings import SANDBOX_BOT_TOKEN
from tests.notifications.helpers import Phone, start_bridge
from tests.support.data import chat_id
from tests.support.extra_api import extra_api
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SECRET = "webhook-secret-for-tests_123"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def update(chat: int, text: str) -> dict[str, object]:
    return {
        "update_id": random.randint(10**9, 2 * 10**9),
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat, "type": "private", "first_name": "Ana"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ana", "language_code": "es"},
            "text": text,
        },
    }


@pytest.fixture(scope="module")
async def webhook_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A second API process with TELEGRAM_WEBHOOK_SECRET set."""
    async with extra_api(stack, "api-webhook", {"TELEGRAM_WEBHOOK_SECRET": SECRET}) as client:
        yield client


async def test_webhook_is_off_without_a_configured_secret(api: httpx.AsyncClient) -> None:
    resp = await api.post("/api/telegram/webhook", json=update(1, "/estado"))
    assert resp.status_code == 503


async def test_webhook_refuses_a_missing_or_wrong_secret(webhook_api: httpx.AsyncClient) -> None:
    body = update(1, "/estado")
    assert (await webhook_api.post("/api/telegram/webhook", json=body)).status_code == 401
    wrong = {HEADER: SECRET + "x"}
    resp = await webhook_api.post("/api/telegram/webhook", json=body, headers=wrong)
    assert resp.status_code == 401
    resp = await webhook_api.post("/api/telegram/webhook", content=b"[]", headers={HEADER: SECRET})
    assert resp.status_code == 400


async def test_updates_reach_a_bridge_in_webhook_mode(
    stack: Stack, webhook_api: httpx.AsyncClient, phone: Phone
) -> None:
    await stack.supervisor.stop("bridge")
    normal = stack.spec("bridge")
    env = {
        **(normal.env or {}),
        "TELEGRAM_UPDATES": "webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "PUBLIC_BASE_URL": str(webhook_api.base_url),
    }
    spec = dataclasses.replace(normal, name="bridge-webhook", env=env)
    try:
        await start_bridge(stack, phone.sandbox, spec, first_call="setWebhook")

        pushed = chat_id()  # the sandbox pushes the update to the API with the secret
        await phone.send(pushed, "/estado")
        [reply] = await phone.wait_messages(pushed, 1)
        assert "No tiene un turno activo" in reply["text"]

        posted = chat_id()  # an update posted straight to the endpoint
        resp = await webhook_api.post(
            "/api/telegram/webhook", json=update(posted, "hola"), headers={HEADER: SECRET}
        )
        assert resp.status_code == 200, resp.text
        [help_text] = await phone.wait_messages(posted, 1)
        assert "/estado" in help_text["text"]
    finally:
        await stack.supervisor.stop("bridge-webhook")
        await phone.sandbox.post(f"/bot{SANDBOX_BOT_TOKEN}/deleteWebhook")
        await start_bridge(stack, phone.sandbox, normal)
