"""Handles one notification from the broker: at most one delivery per `mensaje` row.

Per message: take the row's SENDING claim (an atomic UPDATE, see
db/message_claims.py) so that of all bridges holding a copy exactly one sends
it; a copy whose attempt another bridge is sending waits for that sender (its
outcome, or its lease running out if it crashed, then claims itself); a copy of
a final message reports the outcome again (the first report may have been lost).
Send with inline retries, record every attempt in PostgreSQL, release the claim,
report the outcome to the message's workflow (which owns the retry schedule),
and only then ack. Once Telegram has answered, recording, reporting and acking
are shielded from shutdown cancellation: cutting them short would send twice.

The one duplicate path left: a bridge that dies after Telegram took the message
and before the SENT row is written (the crash-between-send-and-record window);
its lease runs out and another bridge sends the message again.

Long because each of those steps has its own failure path, and they only make sense
read together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
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
from db import message_claims, messages
from db.message_claims import Claim
from domain.contracts import REPORT_DELIVERY_SIGNAL, DeliveryReport
from domain.states import FINAL_MESSAGE_STATES, DeliveryOutcome, MessageState
from messaging.messages import OutboundTelegram
from messaging.telegram import Failure, Permanent, RetryLater, SendResult, Sent
from messaging.topology import is_urgent

log = logging.getLogger("ticketero.bridge")
#: The SENDING lease: renewed every third of it while sending; a crashed sender's
#: message is claimable again after at most this long.
CLAIM_LEASE_SECONDS = 10.0
#: How often a copy waiting for another bridge's send looks at the row again.
HELD_POLL_SECONDS = 0.5
#: How long releasing a claim keeps retrying PostgreSQL (then the lease runs out by itself).
FINISH_RELEASE_SECONDS = 5.0


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
    def __init__(
        self,
        engine: AsyncEngine,
        deliverer: Deliverer,
        reporter: Reporter,
        *,
        lease: float = CLAIM_LEASE_SECONDS,
    ) -> None:
        self._engine = engine
        self._deliverer = deliverer
        self._reporter = reporter
        self._lease = lease
        self._holder = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._finishing: set[asyncio.Task[None]] = set()

    async def handle(self, message: AbstractIncomingMessage) -> None:
        try:
            out = OutboundTelegram.model_validate_json(message.body)
        except ValidationError:
            log.error("dead-lettering malformed message %s", message.message_id)
            await message.reject(requeue=False)
            return
        claim = await self._claim(out)
        if claim == Claim.NOT_PENDING:
            await self._not_pending(message, out)
        elif claim == Claim.DONE:
            log.info("dropping a copy of an attempt already made", extra=_ids(out))
            await message.ack()
        else:
            await self._send(message, out)

    async def _claim(self, out: OutboundTelegram) -> Claim:
        """Our claim, or why there is nothing to send; waits while another bridge sends."""
        while True:
            claim = await retrying(
                lambda: message_claims.claim(
                    self._engine, out.message_id, out.attempt, self._holder, self._lease
                )
            )
            if claim != Claim.HELD:
                return claim
            await asyncio.sleep(HELD_POLL_SECONDS)

    async def _not_pending(self, message: AbstractIncomingMessage, out: OutboundTelegram) -> None:
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
        await message.ack()  # PENDING again meanwhile: its current attempt has its own copy

    async def _send(self, message: AbstractIncomingMessage, out: OutboundTelegram) -> None:
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

        renewing = asyncio.create_task(self._renew(out))
        try:
            result = await self._deliverer.deliver(
                out.chat_id,
                out.text,
                out.parse_mode,
                on_failure=record_failure,
                urgent=is_urgent(out.kind),
            )
        except asyncio.CancelledError:
            # Stopping mid-send: the copy goes back to the queue, the attempt is claimable now.
            self._shielded_nowait(self._release(out, done=False))
            raise
        finally:
            renewing.cancel()
        await self._shielded(self._finish(message, out, self._outcome(out, result)))

    async def _renew(self, out: OutboundTelegram) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            with contextlib.suppress(Exception):
                renew = message_claims.renew(
                    self._engine, out.message_id, self._holder, self._lease
                )
                if not await asyncio.wait_for(renew, timeout=self._lease / 3):
                    log.warning("lost the sending claim (lease ran out)", extra=_ids(out))
                    return

    async def _release(self, out: OutboundTelegram, *, done: bool) -> None:
        await retrying(
            lambda: message_claims.release(self._engine, out.message_id, self._holder, done=done),
            give_up_after=FINISH_RELEASE_SECONDS,
        )

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
            with contextlib.suppress(Exception):  # else the lease runs out by itself
                await self._release(out, done=True)
        await self._reporter.report(out.workflow_id, report)
        await message.ack()

    async def _shielded(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._finishing.add(task)
        task.add_done_callback(_forget(self._finishing))
        await asyncio.shield(task)

    def _shielded_nowait(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._finishing.add(task)
        task.add_done_callback(_forget(self._finishing))

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
