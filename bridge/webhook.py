"""Webhook mode: Telegram posts updates to the API, which queues them for the bridge.

The bridge registers the webhook (with the secret Telegram echoes in a header)
and consumes the `telegram.update` queue; a body that is not a JSON object is
dead-lettered, anything else is handled exactly like a polled update.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from messaging.telegram import BotApiError, TelegramClient

log = logging.getLogger("ticketero.bridge")
WEBHOOK_PATH = "/api/telegram/webhook"
BACKOFF_MAX = 30.0


def webhook_url(public_base_url: str) -> str:
    return public_base_url.rstrip("/") + WEBHOOK_PATH


async def register_webhook(telegram: TelegramClient, url: str, secret: str) -> None:
    """setWebhook until Telegram accepts it (it may be briefly unreachable at start)."""
    delay = 0.5
    payload = {"url": url, "secret_token": secret, "allowed_updates": ["message"]}
    while True:
        try:
            await telegram.call("setWebhook", payload)
            log.info("webhook registered at %s", url)
            return
        except BotApiError as err:
            log.warning("setWebhook failed (%s); again in %.1fs", err.reason, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX)


def update_consumer(
    handle: Callable[[Mapping[str, Any]], Awaitable[None]],
) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
    async def on_update(message: AbstractIncomingMessage) -> None:
        try:
            update = json.loads(message.body)
        except ValueError:
            update = None
        if not isinstance(update, dict):
            log.error("dead-lettering a malformed update")
            await message.reject(requeue=False)
            return
        await handle(update)
        await message.ack()

    return on_update
