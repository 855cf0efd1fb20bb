"""Webhook mode: updates are pushed to a receiver started by the test."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from fastapi import FastAPI, Request, Response


@dataclass
class Receiver:
    """A bot's webhook endpoint that records requests and can be told to fail."""

    url: str = ""
    failing: bool = False
    calls: list[tuple[dict[str, str], dict]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            self.calls.append((dict(request.headers), await request.json()))
            return Response(status_code=500 if self.failing else 200)

        return app

    def bodies(self):
        return [body for _, body in self.calls]


@pytest_asyncio.fixture
async def receiver(serve_app):
    rec = Receiver()
    async with serve_app(rec.app()) as url:
        rec.url = f"{url}/hook"
        yield rec


async def test_updates_are_pushed_with_secret_header(http, bot, receiver, wait):
    response = await bot("setWebhook", url=receiver.url, secret_token="s3cr3t_-X")
    assert response.json() == {"ok": True, "result": True, "description": "Webhook was set"}

    sent = (await http.post("/sandbox/start", json={"payload": "abc"})).json()

    async def delivered():
        return receiver.calls

    await wait(delivered)
    headers, body = receiver.calls[0]
    assert headers["x-telegram-bot-api-secret-token"] == "s3cr3t_-X"
    assert headers["content-type"] == "application/json"
    assert body == sent

    async def drained():
        info = (await bot("getWebhookInfo")).json()["result"]
        return info["pending_update_count"] == 0 and info

    info = await wait(drained)
    assert info["url"] == receiver.url
    assert "last_error_message" not in info


async def test_no_secret_header_without_secret(http, bot, receiver, wait):
    await bot("setWebhook", url=receiver.url)
    await http.post("/sandbox/chats/5/send", json={"text": "hola"})

    async def delivered():
        return receiver.calls

    await wait(delivered)
    assert "x-telegram-bot-api-secret-token" not in receiver.calls[0][0]


async def test_get_updates_conflicts_while_webhook_is_set(bot, receiver):
    await bot("setWebhook", url=receiver.url)
    response = await bot("getUpdates")
    assert response.status_code == 409
    assert response.json() == {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    }
    deleted = await bot("deleteWebhook")
    assert deleted.json()["description"] == "Webhook was deleted"
    assert (await bot("getUpdates")).json() == {"ok": True, "result": []}
    assert (await bot("getWebhookInfo")).json()["result"]["url"] == ""


async def test_failed_delivery_stays_pending_and_is_retried(http, bot, receiver, wait):
    receiver.failing = True
    await bot("setWebhook", url=receiver.url)
    sent = (await http.post("/sandbox/chats/6/send", json={"text": "/estado"})).json()

    async def failing_visibly():
        info = (await bot("getWebhookInfo")).json()["result"]
        return len(receiver.calls) >= 2 and info.get("last_error_message") and info

    info = await wait(failing_visibly)
    assert info["pending_update_count"] == 1
    assert "500" in info["last_error_message"]
    assert isinstance(info["last_error_date"], int)

    receiver.failing = False

    async def drained():
        info = (await bot("getWebhookInfo")).json()["result"]
        return info["pending_update_count"] == 0

    await wait(drained)
    assert all(body == sent for body in receiver.bodies())


async def test_unreachable_webhook_reports_connection_error(http, bot, wait):
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"  # bound, not listening
        await bot("setWebhook", url=dead_url)
        await http.post("/sandbox/chats/7/send", json={"text": "hola"})

        async def errored():
            info = (await bot("getWebhookInfo")).json()["result"]
            return info.get("last_error_message")

        assert "Connection failed" in await wait(errored)
    dropped = await bot("deleteWebhook", drop_pending_updates=True)
    assert dropped.json()["ok"]
    assert (await bot("getWebhookInfo")).json()["result"]["pending_update_count"] == 0


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"url": "ftp://x"}, "Bad Request: bad webhook: invalid URL"),
        (
            {"url": "https://example.cl/hook", "secret_token": "no spaces"},
            "Bad Request: bad webhook: secret token contains unallowed characters",
        ),
    ],
)
async def test_set_webhook_validation(bot, params, description):
    response = await bot("setWebhook", **params)
    assert response.status_code == 400
    assert response.json()["description"] == description
