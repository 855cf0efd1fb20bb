"""The "phone": an HTML page showing chats as the customer sees them.

Server-rendered with autoescaping Jinja2; bot messages in HTML mode go through
`tghtml` so only Telegram's whitelisted tags reach the browser. Forms post to
`/ui/*`, which redirect back (works without JavaScript); a small script only
refreshes the view.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from telegram_sandbox import tghtml
from telegram_sandbox.sandbox_api import PAYLOAD_RE, start_user
from telegram_sandbox.state import Chat, ChatMessage, SandboxState

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
ERRORS = {
    "bad_link": "No entendí el enlace. Pega un enlace https://t.me/…?start=… o solo el código.",
    "wrong_bot": "Ese enlace es de otro bot.",
    "empty_text": "Escribe un mensaje de entre 1 y 4096 caracteres.",
    "bad_chat": "Ese chat no existe.",
}
_LINK_HOSTS = {"t.me", "www.t.me", "telegram.me", "www.telegram.me"}


class LinkError(ValueError):
    """The pasted deep link is unusable; `args[0]` is a key of `ERRORS`."""


def payload_from_link(value: str, bot_username: str) -> str:
    """Accept `https://t.me/<bot>?start=X`, `tg://resolve?domain=<bot>&start=X` or `X`."""
    value = value.strip()
    if PAYLOAD_RE.fullmatch(value):
        return value
    parts = urlsplit(value if "://" in value else f"https://{value}")
    query = parse_qs(parts.query)
    if parts.scheme in ("http", "https") and parts.netloc.lower() in _LINK_HOSTS:
        bot = parts.path.strip("/")
    elif parts.scheme == "tg" and parts.netloc == "resolve":
        bot = query.get("domain", [""])[0]
    else:
        raise LinkError("bad_link")
    if bot.lower() != bot_username.lower():
        raise LinkError("wrong_bot")
    payload = query.get("start", [""])[0]
    if not PAYLOAD_RE.fullmatch(payload):
        raise LinkError("bad_link")
    return payload


@dataclass(frozen=True)
class MessageView:
    from_bot: bool
    html: Markup
    time: str
    received_at: str


def render_text(message: ChatMessage) -> Markup:
    """Bot HTML keeps whitelisted tags only; anything else is shown escaped."""
    if message.from_bot and (message.parse_mode or "").lower() == "html":
        try:
            return Markup(tghtml.to_safe_html(tghtml.parse(message.text)))  # noqa: S704
        except tghtml.EntityParseError:
            pass
    return escape(message.text)


def preview(message: ChatMessage | None) -> str:
    if message is None:
        return ""
    text = message.text
    if message.from_bot and (message.parse_mode or "").lower() == "html":
        with contextlib.suppress(tghtml.EntityParseError):
            text = tghtml.plain_text(tghtml.parse(text))
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:59] + "…"


def signature(chats: list[Chat]) -> str:
    """Changes whenever a chat or a message appears; the script compares it."""
    return ",".join(f"{c.id}:{len(c.messages)}" for c in sorted(chats, key=lambda c: c.id))


def web_router(state: SandboxState, bot_username: str, time_zone: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    templates = Jinja2Templates(env=env)
    zone = ZoneInfo(time_zone)

    def view(message: ChatMessage) -> MessageView:
        local = datetime.fromisoformat(message.received_at).astimezone(zone)
        return MessageView(
            message.from_bot, render_text(message), local.strftime("%H:%M:%S"), message.received_at
        )

    @router.get("/")
    async def phone(request: Request, chat: str = "", error: str = "") -> Response:
        chats = list(state.chats.values())
        selected_id = int(chat) if re.fullmatch(r"-?[0-9]{1,19}", chat) else None
        selected = state.chats.get(selected_id) if selected_id is not None else None
        ordered = sorted(
            chats, key=lambda c: c.messages[-1].received_at if c.messages else "", reverse=True
        )
        context = {
            "bot_username": bot_username,
            "chats": [(c, preview(c.messages[-1] if c.messages else None)) for c in ordered],
            "selected_id": selected_id,
            "selected": selected,
            "messages": [view(m) for m in selected.messages] if selected else [],
            "error": ERRORS.get(error),
            "signature": signature(chats),
        }
        response = templates.TemplateResponse(request, "index.html", context)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Cache-Control"] = "no-store"
        return response

    @router.post("/ui/start")
    async def ui_start(request: Request) -> RedirectResponse:
        form = await request.form()
        link, name = str(form.get("link", "")), str(form.get("first_name", "")).strip()[:64]
        try:
            payload = payload_from_link(link, bot_username)
        except LinkError as exc:
            return RedirectResponse(f"/?error={exc.args[0]}", status_code=303)
        update = start_user(state, payload, None, name or None)
        return RedirectResponse(f"/?chat={update['message']['chat']['id']}", status_code=303)

    @router.post("/ui/send")
    async def ui_send(request: Request) -> RedirectResponse:
        form = await request.form()
        raw_chat, text = str(form.get("chat_id", "")), str(form.get("text", ""))
        if not re.fullmatch(r"-?[0-9]{1,19}", raw_chat) or int(raw_chat) not in state.chats:
            return RedirectResponse("/?error=bad_chat", status_code=303)
        if not text.strip() or len(text) > 4096:
            return RedirectResponse(f"/?chat={raw_chat}&error=empty_text", status_code=303)
        state.user_message(int(raw_chat), text)
        return RedirectResponse(f"/?chat={raw_chat}", status_code=303)

    return router
