"""The Bot API subset Ticketero uses, served at `/bot{token}/{method}`.

Requests and answers follow Telegram byte for byte where it matters (status
codes, `ok/error_code/description`, parameter styles), so the production
client code is exercised unchanged against the sandbox.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from telegram_sandbox import tghtml
from telegram_sandbox.state import Fault, JsonDict, PollConflictError, SandboxState

MAX_TEXT_LENGTH = 4096
MAX_POLL_TIMEOUT = 50
DEFAULT_BOT_ID = 7_000_000_001
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ApiError(Exception):
    """An error answer in Telegram's shape."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class Described:
    """A result that Telegram returns together with a top-level description."""

    result: Any
    description: str


Params = dict[str, Any]
Handler = Callable[[Params], Awaitable[Any]]

_FAULT_ERRORS: dict[str, tuple[int, str]] = {
    "500": (500, "Internal Server Error"),
    "403": (403, "Forbidden: bot was blocked by the user"),
}


def error_body(status: int, description: str, parameters: JsonDict | None = None) -> JsonDict:
    body: JsonDict = {"ok": False, "error_code": status, "description": description}
    if parameters is not None:
        body["parameters"] = parameters
    return body


async def read_params(request: Request) -> Params:
    """Merge query string and JSON/form body, as Telegram accepts all of them."""
    params: Params = dict(request.query_params)
    if request.method != "POST":
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise ApiError(400, "Bad Request: can't parse JSON object") from exc
            if not isinstance(data, dict):
                raise ApiError(400, "Bad Request: JSON object expected")
            params.update(data)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def int_param(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value.strip()):
        return int(value)
    raise ApiError(400, f"Bad Request: invalid {name} specified")


def bool_param(params: Params, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def bot_id_from_token(token: str) -> int:
    """Real tokens start with the bot's id (`123:abc`); the sandbox one does not."""
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID


class BotApi:
    """Dispatches Bot API methods and applies outages, faults and counters."""

    def __init__(self, state: SandboxState, token: str, bot_username: str) -> None:
        self.state = state
        self.token = token
        self.bot_username = bot_username
        self.handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "sendMessage": self.send_message,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "answerCallbackQuery": self.answer_callback_query,
        }
        self._canonical = {name.lower(): name for name in self.handlers}

    def canonical(self, method: str) -> str | None:
        """Telegram method names are case-insensitive."""
        return self._canonical.get(method.lower())

    def _fail(self, method: str, outcome: str, error: ApiError) -> JSONResponse:
        self.state.count_call(method, outcome)
        body = error_body(error.status, error.description, error.parameters)
        return JSONResponse(body, status_code=error.status)

    async def handle(self, token: str, raw_method: str, request: Request) -> JSONResponse:
        method = self.canonical(raw_method) or raw_method
        if self.state.outage_remaining() > 0:
            return self._fail(method, "502", ApiError(502, "Bad Gateway"))
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return self._fail(method, "401", ApiError(401, "Unauthorized"))
        handler = self.handlers.get(method)
        if handler is None:
            return self._fail(method, "404", ApiError(404, "Not Found"))
        fault = self.state.take_fault(method)
        if fault is not None:
            return await self._apply_fault(method, fault)
        try:
            result = await handler(await read_params(request))
        except ApiError as exc:
            return self._fail(method, str(exc.status), exc)
        self.state.count_call(method, "ok")
        if isinstance(result, Described):
            body = {"ok": True, "result": result.result, "description": result.description}
            return JSONResponse(body)
        return JSONResponse({"ok": True, "result": result})

    async def _apply_fault(self, method: str, fault: Fault) -> JSONResponse:
        if fault.kind == "429":
            error = ApiError(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
            return self._fail(method, "429", error)
        if fault.kind == "timeout":
            self.state.count_call(method, "timeout")
            await asyncio.sleep(fault.delay_seconds)  # the hang *is* the fault
            return JSONResponse(error_body(504, "Gateway Timeout"), status_code=504)
        status, description = _FAULT_ERRORS[fault.kind]
        return self._fail(method, fault.kind, ApiError(status, description))

    # -- methods -----------------------------------------------------------------
    async def get_me(self, params: Params) -> JsonDict:
        return {
            "id": bot_id_from_token(self.token),
            "is_bot": True,
            "first_name": "Ticketero",
            "username": self.bot_username,
        }

    async def send_message(self, params: Params) -> JsonDict:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode") or None
        if parse_mode is not None and not isinstance(parse_mode, str):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        visible = text
        if parse_mode is not None and parse_mode.lower() == "html":
            try:
                visible = tghtml.plain_text(tghtml.parse(text))
            except tghtml.EntityParseError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if tghtml.utf16_length(visible) > MAX_TEXT_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        message = self.state.record_bot_message(chat_id, text, parse_mode)
        chat = self.state.chats[chat_id]
        return {
            "message_id": message.message_id,
            "date": message.date,
            "chat": {"id": chat.id, "type": chat.type},
            "text": visible,
        }

    @staticmethod
    def _chat_id(params: Params) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int_param(params, "chat_id")
        except ApiError:
            chat_id = None
        if not chat_id:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    async def get_updates(self, params: Params) -> list[JsonDict]:
        offset = int_param(params, "offset")
        limit = min(max(int_param(params, "limit") or 100, 1), 100)
        timeout = min(max(int_param(params, "timeout") or 0, 0), MAX_POLL_TIMEOUT)
        try:
            return await self.state.poll_updates(offset, limit, timeout)
        except PollConflictError as exc:
            raise ApiError(409, str(exc)) from exc

    async def set_webhook(self, params: Params) -> Described:
        url = params.get("url")
        if not isinstance(url, str):
            url = ""
        url = url.strip()
        drop = bool_param(params, "drop_pending_updates")
        if not url:
            self.state.delete_webhook(drop)
            return Described(True, "Webhook was deleted")
        if not re.match(r"https?://[^/\s]+", url):
            raise ApiError(400, "Bad Request: bad webhook: invalid URL")
        secret = params.get("secret_token") or None
        if secret is not None and not (isinstance(secret, str) and _SECRET_RE.fullmatch(secret)):
            raise ApiError(
                400, "Bad Request: bad webhook: secret token contains unallowed characters"
            )
        self.state.set_webhook(url, secret, drop)
        return Described(True, "Webhook was set")

    async def delete_webhook(self, params: Params) -> Described:
        existed = self.state.delete_webhook(bool_param(params, "drop_pending_updates"))
        return Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    async def get_webhook_info(self, params: Params) -> JsonDict:
        return self.state.webhook_info()

    async def answer_callback_query(self, params: Params) -> bool:
        return True


def bot_router(api: BotApi) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.api_route("/bot{token}/{method}", methods=["GET", "POST"])
    async def bot_method(token: str, method: str, request: Request) -> JSONResponse:
        return await api.handle(token, method, request)

    return router
