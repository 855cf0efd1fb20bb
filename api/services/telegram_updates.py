"""Telegram's webhook pushes: check the secret, check the update, queue it for the bridge.

The update is queued raw (persistent, publisher-confirmed) so the webhook answers
fast; the bridge handles it exactly like a polled update.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustConnection

from api.errors import ApiError
from messaging.topology import UPDATE_ROUTING, declare_exchange, declare_updates_queue
from settings import Settings

log = logging.getLogger("ticketero.api")
PUBLISH_TIMEOUT = 5.0


class UpdatePublisher:
    """Connects on first use, so the API starts while RabbitMQ is away."""

    def __init__(self) -> None:
        self._connection: AbstractRobustConnection | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()

    async def _ensure(self, url: str, exchange_name: str) -> AbstractExchange:
        async with self._lock:
            if self._exchange is None:
                connection = await aio_pika.connect_robust(url, timeout=PUBLISH_TIMEOUT)
                try:
                    channel = await connection.channel(publisher_confirms=True)
                    exchange = await declare_exchange(channel, exchange_name)
                    await declare_updates_queue(channel, exchange)
                except BaseException:
                    await connection.close()
                    raise
                self._connection, self._exchange = connection, exchange
            return self._exchange

    async def publish(self, url: str, exchange_name: str, body: bytes, update_id: int) -> None:
        exchange = await self._ensure(url, exchange_name)
        await exchange.publish(
            aio_pika.Message(
                body=body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=f"update-{update_id}",
            ),
            routing_key=UPDATE_ROUTING,
            mandatory=True,
            timeout=PUBLISH_TIMEOUT,
        )

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = self._exchange = None


def check_secret(settings: Settings, secret: str | None) -> None:
    """503 while no secret is configured (the webhook is off); 401 on a missing or wrong one."""
    expected = settings.telegram_webhook_secret.get_secret_value()
    if not expected:
        raise ApiError(503, "telegram.not_configured")
    if secret is None or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise ApiError(401, "telegram.bad_secret")


async def queue_update(settings: Settings, publisher: UpdatePublisher, body: bytes) -> None:
    """Queue one update for the bridge: 400 when it is not one, 503 when it cannot be queued."""
    try:
        update = json.loads(body)
    except ValueError:
        raise ApiError(400, "request.malformed_json") from None
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise ApiError(400, "telegram.not_update", field="update_id")
    try:
        await publisher.publish(
            settings.rabbitmq_url.get_secret_value(),
            settings.rabbitmq_exchange,
            body,
            update["update_id"],
        )
    except Exception as err:
        log.warning("could not queue a Telegram update: %s", type(err).__name__)
        raise ApiError(
            503,
            "telegram.unavailable",
            extra={"dependency": "rabbit"},
            headers={"Retry-After": "5"},
        ) from None
