"""Pushes pending updates to the configured webhook, as Telegram does.

One update at a time, in order; a failing update stays pending (visible in
getWebhookInfo) and is retried with exponential backoff, then given up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from telegram_sandbox.state import JsonDict, SandboxState, Webhook

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for failed deliveries: base * 2**n seconds, capped."""

    base_seconds: float = 0.5
    cap_seconds: float = 10.0
    max_attempts: int = 8

    def delay(self, attempt: int) -> float:
        return min(self.base_seconds * 2.0 ** (attempt - 1), self.cap_seconds)


async def deliver(client: httpx.AsyncClient, webhook: Webhook, update: JsonDict) -> str | None:
    """POST one update; return a Telegram-like error message, or None on success."""
    headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
    try:
        response = await client.post(webhook.url, json=update, headers=headers)
    except httpx.HTTPError as exc:
        return f"Connection failed: {type(exc).__name__}"
    if response.is_success:
        return None
    return f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"


async def run_webhook_worker(
    state: SandboxState, client: httpx.AsyncClient, policy: RetryPolicy
) -> None:
    """Forever: wait for (webhook, pending update), deliver, back off on failure."""
    # Delivery is strictly in order, so only the head update has attempts.
    failing_id, attempt = -1, 0
    while True:
        job = state.next_webhook_delivery()
        if job is None:
            await state.wait_changed(None)
            continue
        webhook, update = job
        update_id = update["update_id"]
        error = await deliver(client, webhook, update)
        if error is None:
            state.ack_update(update_id)
            continue
        state.webhook_failed(webhook, error)
        attempt = attempt + 1 if update_id == failing_id else 1
        failing_id = update_id
        if attempt >= policy.max_attempts:
            state.ack_update(update_id)
            continue
        loop = asyncio.get_running_loop()
        deadline = loop.time() + policy.delay(attempt)
        # Wait out the backoff, but react at once if the webhook is changed.
        while state.webhook is webhook and (remaining := deadline - loop.time()) > 0:
            await state.wait_changed(remaining)
