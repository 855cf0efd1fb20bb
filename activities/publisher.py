"""Publishes notifications to RabbitMQ with publisher confirms, over one robust connection."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustConnection

from messaging.messages import OutboundTelegram
from messaging.topology import declare_exchange, declare_telegram_queue, telegram_routing_key

log = logging.getLogger("ticketero.publisher")
EVENT_TIMEOUT = 2.0


class Publisher:
    """Lazily connects; a publish returns only once the broker has confirmed it."""

    def __init__(self, url: str, exchange: str) -> None:
        self._url = url
        self._exchange_name = exchange
        self._connection: AbstractRobustConnection | None = None
        self._exchange: AbstractExchange | None = None
        self._events: AbstractExchange | None = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is None:
                self._connection = await aio_pika.connect_robust(self._url, timeout=10)
                channel = await self._connection.channel(publisher_confirms=True)
                exchange = await declare_exchange(channel, self._exchange_name)
                await declare_telegram_queue(channel, exchange)
                # Display events need no confirmation round trip: a channel without confirms.
                self._events = await declare_exchange(
                    await self._connection.channel(publisher_confirms=False), self._exchange_name
                )
                self._exchange = exchange
            return self._exchange

    async def publish_telegram(self, message: OutboundTelegram) -> None:
        exchange = await self._ensure()
        await exchange.publish(
            aio_pika.Message(
                body=message.model_dump_json().encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(message.message_id),
                type=message.kind,
            ),
            routing_key=telegram_routing_key(message.kind),
            mandatory=True,
            timeout=10,
        )

    async def publish_event(self, routing_key: str, body: dict[str, Any]) -> None:
        """A live event for displays: best effort, so a broker outage never blocks a
        ticket (displays re-read the state when they reconnect)."""
        try:
            await asyncio.wait_for(self._ensure(), EVENT_TIMEOUT)
            assert self._events is not None
            await self._events.publish(
                aio_pika.Message(
                    body=json.dumps(body, default=str).encode(),
                    content_type="application/json",
                    type="ticket_event",
                ),
                routing_key=routing_key,
                # Not mandatory: with no display connected no queue is bound, and the
                # broker would return every event (an ERROR "unhandled message" each).
                mandatory=False,
                timeout=EVENT_TIMEOUT,
            )
        except Exception as err:
            log.warning("live event not published: %s", type(err).__name__)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = None
        self._exchange = None
        self._events = None
