"""Handles one notification from the broker: at most one delivery per `mensaje` row.

Per message: skip the send if the row is no longer PENDING (a redelivery; the
outcome is reported again, in case the first report was lost), send with
inline retries, record every attempt in PostgreSQL, report the outcome to the
message's workflow (which owns the retry schedule), and only then ack.
Once Telegram has answered, recording, reporting and acking are shielded from
shutdown cancellation: cutting them short would send the message twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from bridge.delivery import Deliverer
from bridge.retry import retrying
from db import messages
from domain.contracts import REPORT_DELIVERY_SIGNAL, DeliveryReport
from domain.states import FINAL_MESSAGE_STATES, DeliveryOutcome, MessageState
from messaging.messages import OutboundTelegram
from messaging.telegram import Failure, Permanent, RetryLater, SendResult, Sent

log = logging.getLogger("ticketero.bridge")


class Reporter:
    """Signals `report_delivery` to a notification workflow, retried until Temporal takes it."""

    def __init__(self, temporal: Client) -> None:
        self._temporal = temporal

    async def report(self, workflow_id: str, report: DeliveryReport) -> None:
        handle = self._temporal.get_workflow_handle(workflow_id)

        async def signal() -> None:
            try:
                await handle.signal(REPORT_DELIVERY_SIGNAL, report)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                log.info("workflow already closed; outcome kept in the database only")

        await retrying(signal)


class NotificationHandler:
    def __init__(self, engine: AsyncEngine, deliverer: Deliverer, reporter: Reporter) -> None:
        self._engine = engine
        self._deliverer = deliverer
        self._reporter = reporter
        self._finishing: set[asyncio.Task[None]] = set()
        # Copies of one message can arrive together (a republished retry): the copy that
        # comes second while the first is being sent is dropped, never sent again.
        self._in_flight: set[uuid.UUID] = set()

    async def handle(self, message: AbstractIncomingMessage) -> None:
        try:
            out = OutboundTelegram.model_validate_json(message.body)
        except ValidationError:
            log.error("dead-lettering malformed message %s", message.message_id)
            await message.reject(requeue=False)
            return
        if out.message_id in self._in_flight:
            log.info("dropping a copy of a message being sent", extra=_ids(out))
            await message.ack()
            return
        self._in_flight.add(out.message_id)
        try:
            await self._handle(message, out)
        finally:
            self._in_flight.discard(out.message_id)

    async def _handle(self, message: AbstractIncomingMessage, out: OutboundTelegram) -> None:
        state = await retrying(lambda: messages.state_of(self._engine, out.message_id))
        if state is None:
            log.error("no mensaje row; dead-lettering", extra={"message_id": out.message_id})
            await message.reject(requeue=False)
            return
        if state in FINAL_MESSAGE_STATES:
            log.info("redelivery of a message already %s", state, extra=_ids(out))
            report = DeliveryReport(message_id=out.message_id, outcome=state, attempt=out.attempt)
            await self._shielded(self._finish(message, out, report))
            return
        if state != MessageState.PENDING:
            await message.ack()
            return

        async def record_failure(failure: Failure) -> None:
            final = isinstance(failure, Permanent)
            await retrying(
                lambda: messages.mark_attempt_failed(
                    self._engine,
                    out.message_id,
                    failure.reason,
                    f"{failure.reason}: {failure.detail}",
                    final=final,
                )
            )
            log.warning("telegram %s", failure.reason, extra=_ids(out))

        result = await self._deliverer.deliver(
            out.chat_id, out.text, out.parse_mode, on_failure=record_failure
        )
        await self._shielded(self._finish(message, out, self._outcome(out, result)))

    def _outcome(self, out: OutboundTelegram, result: SendResult) -> DeliveryReport | Sent:
        if isinstance(result, Sent):
            return result
        return DeliveryReport(
            message_id=out.message_id,
            outcome=DeliveryOutcome.FAILED
            if isinstance(result, Permanent)
            else DeliveryOutcome.RETRY,
            error=f"{result.reason}: {result.detail}",
            retry_after_seconds=result.retry_after if isinstance(result, RetryLater) else None,
            attempt=out.attempt,
        )

    async def _finish(
        self,
        message: AbstractIncomingMessage,
        out: OutboundTelegram,
        outcome: DeliveryReport | Sent,
    ) -> None:
        if isinstance(outcome, Sent):
            telegram_id = outcome.message_id
            now = datetime.now(UTC)
            latency = (now - out.ticket_created_at).total_seconds()
            await retrying(
                lambda: messages.mark_sent(
                    self._engine, out.message_id, out.kind, telegram_id, now, latency
                )
            )
            report = DeliveryReport(
                message_id=out.message_id,
                outcome=DeliveryOutcome.SENT,
                telegram_message_id=telegram_id,
                attempt=out.attempt,
            )
        else:
            report = outcome
        await self._reporter.report(out.workflow_id, report)
        await message.ack()

    async def _shielded(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._finishing.add(task)
        task.add_done_callback(_forget(self._finishing))
        await asyncio.shield(task)

    async def drain(self, grace: float) -> None:
        """Give shielded work `grace` seconds, then cancel it (its message returns unacked)."""
        if not self._finishing:
            return
        _, pending = await asyncio.wait(set(self._finishing), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)


class DeadLetterHandler:
    """A notification RabbitMQ dead-lettered (rejected, expired, over a limit) will never
    be delivered: mark its row FAILED with the reason and tell its workflow, so the
    workflow ends FAILED instead of idling to its deadline with the row PENDING."""

    def __init__(self, engine: AsyncEngine, reporter: Reporter) -> None:
        self._engine = engine
        self._reporter = reporter

    async def handle(self, message: AbstractIncomingMessage) -> None:
        try:
            out = OutboundTelegram.model_validate_json(message.body)
        except ValidationError:
            log.info("malformed dead letter left to the dead-letter queue")
            await message.ack()
            return
        error = f"dead-lettered by RabbitMQ ({dead_letter_reason(message)})"
        marked = await retrying(
            lambda: messages.give_up(self._engine, out.message_id, out.kind, error)
        )
        state = await retrying(lambda: messages.state_of(self._engine, out.message_id))
        log.warning("notification %s: %s", "FAILED" if marked else state, error, extra=_ids(out))
        if state == MessageState.FAILED:
            report = DeliveryReport(
                message_id=out.message_id,
                outcome=DeliveryOutcome.FAILED,
                error=error,
                attempt=out.attempt,
            )
            await self._reporter.report(out.workflow_id, report)
        await message.ack()


def dead_letter_reason(message: AbstractIncomingMessage) -> str:
    """RabbitMQ's reason (`rejected`, `expired`, `maxlen`, `delivery_limit`) from its headers."""
    headers = message.headers or {}
    first = headers.get("x-first-death-reason")
    if first:
        return first.decode() if isinstance(first, bytes) else str(first)
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        reason = deaths[0].get("reason")
        if reason:
            return reason.decode() if isinstance(reason, bytes) else str(reason)
    return "unknown reason"


def _forget(tasks: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("finishing a message failed: %s", type(task.exception()).__name__)

    return done


def _ids(out: OutboundTelegram) -> dict[str, object]:
    return {"message_id": out.message_id, "workflow_id": out.workflow_id}
