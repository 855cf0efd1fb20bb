"""A small Bot API client that classifies every answer as sent, retry later, or permanent.

Used by the bridge (customer messages) and by the operations alerts (ops.activities.reports).

Request URLs contain the bot token, so no URL, request object or httpx
exception text ever leaves this module: errors are re-raised by type name only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"
TIMEOUT = "timeout"
UNREACHABLE = "unreachable"
FORBIDDEN = "forbidden"
BAD_REQUEST = "bad_request"


@dataclass(frozen=True)
class Sent:
    message_id: int


@dataclass(frozen=True)
class RetryLater:
    """Telegram may accept it later: 429 (with `retry_after`), 5xx, timeout, unreachable."""

    reason: str
    detail: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Permanent:
    """Telegram will never accept it (403 blocked, any other 4xx): do not retry."""

    reason: str
    detail: str


SendResult = Sent | RetryLater | Permanent
Failure = RetryLater | Permanent


class BotApiError(Exception):
    """A Bot API method other than sendMessage failed; carries no URL."""

    def __init__(self, reason: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


class TelegramClient:
    """Talks to `{base}/bot{token}/...`; the token is never logged or put in errors."""

    def __init__(self, base: str, token: str, http: httpx.AsyncClient) -> None:
        self._url = f"{base.rstrip('/')}/bot{token}"
        self._http = http

    async def _post(
        self, method: str, payload: dict[str, Any], seconds: float | None
    ) -> httpx.Response:
        url = f"{self._url}/{method}"
        if seconds is None:
            return await self._http.post(url, json=payload)
        return await self._http.post(url, json=payload, timeout=httpx.Timeout(seconds, connect=5.0))

    async def send_message(self, chat_id: int, text: str, parse_mode: str = "HTML") -> SendResult:
        payload = {"chat_id": chat_id, "text": text, "parse_mode": parse_mode}
        try:
            resp = await self._post("sendMessage", payload, None)
        except httpx.TimeoutException as err:
            return RetryLater(TIMEOUT, type(err).__name__)
        except httpx.TransportError as err:
            return RetryLater(UNREACHABLE, type(err).__name__)
        except httpx.HTTPError as err:  # e.g. an undecodable answer
            return RetryLater(SERVER_ERROR, type(err).__name__)
        return classify(resp.status_code, _json(resp), resp.reason_phrase)

    async def call(self, method: str, payload: dict[str, Any], seconds: float | None = None) -> Any:
        """Any other method; returns `result` or raises BotApiError (no URL inside)."""
        try:
            resp = await self._post(method, payload, seconds)
        except httpx.TimeoutException as err:
            raise BotApiError(TIMEOUT, type(err).__name__) from None
        except httpx.TransportError as err:
            raise BotApiError(UNREACHABLE, type(err).__name__) from None
        except httpx.HTTPError as err:
            raise BotApiError(SERVER_ERROR, type(err).__name__) from None
        body = _json(resp)
        if resp.status_code == 200 and body.get("ok"):
            return body.get("result")
        outcome = classify(resp.status_code, body, resp.reason_phrase)
        if isinstance(outcome, Sent):  # 200 without "ok": Telegram is confused
            raise BotApiError(SERVER_ERROR, f"{method} answered without ok")
        retry_after = outcome.retry_after if isinstance(outcome, RetryLater) else None
        raise BotApiError(outcome.reason, outcome.detail, retry_after)


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def classify(status: int, body: dict[str, Any], reason_phrase: str = "") -> SendResult:
    """Map one Bot API answer to what the caller should do with the message."""
    description = str(body.get("description") or reason_phrase)[:300]
    if status == 200 and body.get("ok"):
        result = body.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Sent(int(message_id) if isinstance(message_id, int) else 0)
    if status == 429:
        parameters = body.get("parameters")
        raw = parameters.get("retry_after") if isinstance(parameters, dict) else None
        retry_after = float(raw) if isinstance(raw, int | float) and raw >= 0 else 1.0
        return RetryLater(RATE_LIMITED, description, retry_after)
    if status == 403:
        return Permanent(FORBIDDEN, description)
    if 400 <= status < 500:
        return Permanent(BAD_REQUEST, f"{status} {description}")
    return RetryLater(SERVER_ERROR, f"{status} {description}")
