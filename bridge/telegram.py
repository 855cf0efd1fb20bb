"""A small Bot API client that classifies every answer as sent, retry later, or permanent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Sent:
    message_id: int


@dataclass(frozen=True)
class RetryLater:
    reason: str
    detail: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Permanent:
    reason: str
    detail: str


SendResult = Sent | RetryLater | Permanent


class TelegramClient:
    """Talks to `{base}/bot{token}/...`; the token is never logged or put in errors."""

    def __init__(self, base: str, token: str, http: httpx.AsyncClient) -> None:
        self._url = f"{base.rstrip('/')}/bot{token}"
        self._http = http

    async def call(self, method: str, payload: dict[str, Any]) -> httpx.Response:
        return await self._http.post(f"{self._url}/{method}", json=payload)

    async def send_message(self, chat_id: int, text: str, parse_mode: str = "HTML") -> SendResult:
        try:
            resp = await self.call(
                "sendMessage", {"chat_id": chat_id, "text": text, "parse_mode": parse_mode}
            )
        except httpx.TimeoutException as err:
            return RetryLater("timeout", type(err).__name__)
        except httpx.TransportError as err:
            return RetryLater("unreachable", type(err).__name__)
        return classify(resp)


def classify(resp: httpx.Response) -> SendResult:
    try:
        body: dict[str, Any] = resp.json()
    except ValueError:
        body = {}
    description = str(body.get("description", resp.reason_phrase))[:300]
    if resp.status_code == 200 and body.get("ok"):
        return Sent(int(body["result"]["message_id"]))
    if resp.status_code == 429:
        retry_after = (body.get("parameters") or {}).get("retry_after")
        return RetryLater("rate_limited", description, float(retry_after or 1))
    if resp.status_code >= 500 or resp.status_code == 200:
        return RetryLater("server_error", f"{resp.status_code} {description}")
    if resp.status_code == 403:
        return Permanent("forbidden", description)
    return Permanent("bad_request", f"{resp.status_code} {description}")
