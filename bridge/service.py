"""The bridge process: consumes notifications (and webhook updates), polls updates.

One robust AMQP connection (it reconnects and re-consumes by itself), one
shared send limiter for notifications and bot replies. Stopping follows the
supervisor's 10 s budget: stop taking work, give in-flight messages a few
seconds, cancel what is still waiting (unacked messages go back to the queue),
let already-sent messages finish recording, close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from aio_pika.exceptions import AMQPConnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from temporalio.client import Client

from bridge.commands import BotCommands
from bridge.delivery import Deliverer
from bridge.leader import PollingLeader
from bridge.limiter import SendLimiter
from bridge.notifications import DeadLetterHandler, NotificationHandler, Reporter
from bridge.polling import Poller
from bridge.retry import is_transient, retrying
from bridge.updates import ChatMessage, UpdateHandler
from bridge.webhook import register_webhook, update_consumer, webhook_url
from db import bot_updates
from db.chats import count_reply_error
from messaging.telegram import Failure, Sent, TelegramClient
from messaging.topology import (
    LEGACY_TELEGRAM_QUEUE,
    declare_dead_reports,
    declare_exchange,
    declare_telegram_queue,
    declare_updates_queue,
    declare_urgent_queue,
    retire_legacy_queue,
)
from settings import Settings

log = logging.getLogger("ticketero.bridge")
PREFETCH = 32
#: The urgent queue has a channel and prefetch of its own: a call is taken from the broker
#: at once even while 32 "created" wait for the rate limit, then goes first (limiter).
URGENT_PREFETCH = 16
RECONNECT_SECONDS = 1.0
#: How long a message whose handling met a database or Temporal outage waits before it is
#: returned to the queue for another try.
REQUEUE_PAUSE_SECONDS = 2.0
# Stop budget (the supervisor kills at 10 s): 1 s cancel + 4.5 s in flight + 2 s + 1 s close.
INFLIGHT_GRACE = 4.0
POLLER_GRACE = 3.0
FINISH_GRACE = 2.0
#: Every how many updates the ids older than a day are deleted.
PRUNE_EVERY = 500
Handler = Callable[[AbstractIncomingMessage], Awaitable[None]]


class Bridge:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: AsyncEngine,
        telegram: TelegramClient,
        temporal: Client,
        limiter: SendLimiter | None = None,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._telegram = telegram
        self._deliverer = Deliverer(telegram, limiter or SendLimiter())
        self._notifications = NotificationHandler(engine, self._deliverer, Reporter(temporal))
        self._dead_letters = DeadLetterHandler(engine, Reporter(temporal))
        commands = BotCommands(
            engine=engine,
            temporal=temporal,
            reply=self._reply,
            link_key=settings.telegram_link_secret.get_secret_value().encode(),
            bot_username=settings.telegram_bot_username,
        )
        self._updates = UpdateHandler(commands.on_message, take=self._take_update)
        self._taken = 0
        self._leader: PollingLeader | None = None
        self._webhook: asyncio.Task[None] | None = None
        self._connection: AbstractRobustConnection | None = None
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._inflight: set[asyncio.Task[object]] = set()

    async def start(self) -> None:
        self._connection = await self._connect()
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        exchange = await declare_exchange(channel, self._settings.rabbitmq_exchange)
        queue = await declare_telegram_queue(channel, exchange)
        await self._consume(queue, self._notifications.handle)
        urgent_channel = await self._connection.channel()
        await urgent_channel.set_qos(prefetch_count=URGENT_PREFETCH)
        urgent = await declare_urgent_queue(urgent_channel, exchange)
        await self._consume(urgent, self._notifications.handle)
        await self._consume(await declare_dead_reports(channel), self._dead_letters.handle)
        left = await retire_legacy_queue(self._connection, self._settings.rabbitmq_exchange)
        if left:
            log.info("draining %d messages from the legacy queue", left)
            legacy = await channel.declare_queue(LEGACY_TELEGRAM_QUEUE, durable=True)
            await self._consume(legacy, self._notifications.handle)
        if self._settings.telegram_updates == "webhook":
            secret = self._settings.telegram_webhook_secret.get_secret_value()
            if not secret:
                raise RuntimeError("TELEGRAM_UPDATES=webhook needs TELEGRAM_WEBHOOK_SECRET")
            updates = await declare_updates_queue(channel, exchange)
            await self._consume(updates, update_consumer(self._updates.handle))
            url = webhook_url(self._settings.public_base_url)
            self._webhook = asyncio.create_task(register_webhook(self._telegram, url, secret))
        else:
            self._leader = PollingLeader(self._lock_engine(), self._make_poller)
            self._leader.start()
        log.info("bridge consuming %s; updates by %s", queue.name, self._settings.telegram_updates)

    async def stop(self) -> None:
        """Stop taking work, let in-flight messages finish briefly, return the rest, close."""
        deadline = time.monotonic() + INFLIGHT_GRACE
        cancels = [queue.cancel(tag, timeout=1.0) for queue, tag in self._consumers]
        await asyncio.gather(*cancels, return_exceptions=True)
        self._consumers.clear()
        if self._webhook is not None:
            self._webhook.cancel()
        stopping = [self._wait_inflight(deadline)]
        if self._leader is not None:
            stopping.append(self._leader.stop(grace=POLLER_GRACE))
        await asyncio.gather(*stopping)
        await self._notifications.drain(FINISH_GRACE)
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection.close(), timeout=1.0)

    def _make_poller(self) -> Poller:
        return Poller(
            self._telegram,
            self._updates.handle,
            request_timeout=self._settings.telegram_timeout_seconds,
        )

    def _lock_engine(self) -> AsyncEngine:
        """The polling lock's own unpooled connection (its session is the lock)."""
        return create_async_engine(
            self._settings.database_url,
            poolclass=NullPool,
            # Bounded, so an unreachable PostgreSQL ends leadership instead of hanging it.
            connect_args={
                "timeout": 5,
                "command_timeout": 5,
                "server_settings": {"application_name": "ticketero-bridge-poller-lock"},
            },
        )

    async def _take_update(self, message: ChatMessage) -> bool:
        """First sight of this update id across bridges; if PostgreSQL cannot say, handle it
        (a command answered twice beats one never answered)."""
        self._taken += 1
        try:
            if self._taken % PRUNE_EVERY == 0:
                await bot_updates.forget_old(self._engine)
            return await retrying(
                lambda: bot_updates.take(self._engine, message.update_id, message.fingerprint),
                give_up_after=10.0,
            )
        except Exception as err:
            log.warning("could not record update %s: %s", message.update_id, type(err).__name__)
            return True

    async def _wait_inflight(self, deadline: float) -> None:
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=max(0.0, deadline - time.monotonic()))
        for task in list(self._inflight):
            task.cancel()  # still waiting (limiter, backoff, HTTP): its message is returned
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=0.5)

    async def _connect(self) -> AbstractRobustConnection:
        """Connect, retrying while the broker is not up yet; afterwards aio-pika reconnects."""
        url = self._settings.rabbitmq_url.get_secret_value()
        delay = 0.5
        while True:
            try:
                return await aio_pika.connect_robust(
                    url, timeout=10, reconnect_interval=RECONNECT_SECONDS
                )
            except (AMQPConnectionError, OSError, ConnectionError) as err:
                log.warning("RabbitMQ unreachable (%s); again in %.1fs", type(err).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _consume(self, queue: AbstractQueue, handler: Handler) -> None:
        async def on_message(message: AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            try:
                await handler(message)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                if is_transient(err):
                    # PostgreSQL or Temporal away longer than the handler's own retries:
                    # the message goes back to the queue (after a pause, not a hot loop)
                    # instead of being dead-lettered and given up as FAILED.
                    log.warning("message handling deferred: %s", type(err).__name__)
                    with contextlib.suppress(Exception):
                        await asyncio.sleep(REQUEUE_PAUSE_SECONDS)
                        await message.nack(requeue=True)
                    return
                log.error("message handling failed: %s", type(err).__name__)
                with contextlib.suppress(Exception):
                    await message.reject(requeue=False)
            finally:
                if task is not None:
                    self._inflight.discard(task)

        self._consumers.append((queue, await queue.consume(on_message)))

    async def _reply(self, chat_id: int, text: str) -> None:
        """A bot answer: same limiter and inline retries, no workflow behind it."""

        async def count(failure: Failure) -> None:
            with contextlib.suppress(Exception):
                await retrying(
                    lambda: count_reply_error(self._engine, failure.reason), give_up_after=5.0
                )

        result = await self._deliverer.deliver(chat_id, text, "HTML", on_failure=count)
        if not isinstance(result, Sent):
            log.warning("bot reply not delivered (%s)", result.reason)
