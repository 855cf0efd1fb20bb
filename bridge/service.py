"""Consumes the Telegram queue; each message is sent at most once per de-duplication record.

Per message: skip it if the `mensaje` row is already final (a redelivery), call
sendMessage, record the outcome in PostgreSQL, report it to the message's
workflow (which owns the retry schedule), and only then ack.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import aio_pika
import httpx
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from bridge.telegram import Permanent, RetryLater, Sent, TelegramClient
from db import messages
from messaging.messages import OutboundTelegram
from messaging.topology import declare_exchange, declare_telegram_queue
from workflows.contracts import DeliveryReport

log = logging.getLogger("ticketero.bridge")
PREFETCH = 32
T = TypeVar("T")
BACKOFF_MAX = 5.0


class Bridge:
    def __init__(
        self,
        *,
        rabbitmq_url: str,
        exchange: str,
        engine: AsyncEngine,
        telegram: TelegramClient,
        temporal: Client,
    ) -> None:
        self._url = rabbitmq_url
        self._exchange = exchange
        self._engine = engine
        self._telegram = telegram
        self._temporal = temporal
        self._connection: AbstractRobustConnection | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._consumer_tag: str | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url, timeout=10)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        exchange = await declare_exchange(channel, self._exchange)
        self._queue = await declare_telegram_queue(channel, exchange)
        self._consumer_tag = await self._queue.consume(self._on_message)
        log.info("bridge consuming %s", self._queue.name)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking messages, let in-flight ones finish, then close (unacked ones return)."""
        if self._consumer_tag is not None:
            await self._queue.cancel(self._consumer_tag)
            self._consumer_tag = None
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=grace)
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await self._handle(message)
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        try:
            out = OutboundTelegram.model_validate_json(message.body)
        except ValidationError:
            log.error("dropping malformed message %s", message.message_id)
            await message.reject(requeue=False)
            return
        state = await _retrying(lambda: messages.state_of(self._engine, out.message_id))
        if state != "PENDING":
            log.info("skipping message already %s", state, extra={"message_id": out.message_id})
            await message.ack()
            return
        result = await self._telegram.send_message(out.chat_id, out.text, out.parse_mode)
        now = datetime.now(UTC)
        if isinstance(result, Sent):
            latency = (now - out.ticket_created_at).total_seconds()
            await _retrying(
                lambda: messages.mark_sent(
                    self._engine, out.message_id, out.kind, result.message_id, now, latency
                )
            )
            report = DeliveryReport(
                message_id=out.message_id, outcome="SENT", telegram_message_id=result.message_id
            )
        else:
            final = isinstance(result, Permanent)
            await _retrying(
                lambda: messages.mark_attempt_failed(
                    self._engine, out.message_id, result.reason, result.detail, final=final
                )
            )
            report = DeliveryReport(
                message_id=out.message_id,
                outcome="FAILED" if final else "RETRY",
                error=f"{result.reason}: {result.detail}",
                retry_after_seconds=result.retry_after if isinstance(result, RetryLater) else None,
            )
            log.warning(
                "telegram %s for message", result.reason, extra={"message_id": out.message_id}
            )
        await self._report(out.workflow_id, report)
        await message.ack()

    async def _report(self, workflow_id: str, report: DeliveryReport) -> None:
        handle = self._temporal.get_workflow_handle(workflow_id)

        async def signal() -> None:
            try:
                await handle.signal("report_delivery", report)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                log.warning("workflow gone; outcome kept in the database only")

        await _retrying(signal)


async def _retrying(op: Callable[[], Awaitable[T]]) -> T:
    """Retry an infrastructure call (DB, Temporal) with capped backoff until it succeeds."""
    delay = 0.1
    while True:
        try:
            return await op()
        except (OSError, RPCError, httpx.TransportError, ConnectionError) as err:
            log.warning("retrying after %s", type(err).__name__)
        except Exception as err:
            if not _is_transient(err):
                raise
            log.warning("retrying after %s", type(err).__name__)
        await asyncio.sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX)


def _is_transient(err: BaseException) -> bool:
    if isinstance(err, OperationalError | InterfaceError):
        return True
    return isinstance(err, DBAPIError) and err.connection_invalidated
