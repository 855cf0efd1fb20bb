"""Structured JSON logs with personal data masked before anything is written.

Every process calls `setup_logging` once. Context (request id, ticket
reference, workflow id) rides in contextvars so library code need not pass it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from temporalio import activity

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
ticket_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("ticket", default=None)

# RUTs (with dots/dash), long digit runs (ids, phones) and bot tokens in URLs.
_RUT = re.compile(r"\b\d{1,2}\.?\d{3}\.?\d{3}-[\dkK]\b")
_DIGITS = re.compile(r"(?<![\w-])\+?\d{8,15}(?![\w-])")
_BOT_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]+")


def mask_text(text: str) -> str:
    """Mask national ids, phone numbers and bot tokens that slipped into a message."""
    text = _BOT_TOKEN.sub("bot<token>", text)
    text = _RUT.sub(lambda m: "*" * (len(m.group()) - 5) + m.group()[-5:], text)
    return _DIGITS.sub(lambda m: "*" * (len(m.group()) - 3) + m.group()[-3:], text)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "msg": mask_text(record.getMessage()),
        }
        for key, var in (("request_id", request_id_var), ("ticket", ticket_var)):
            value = var.get()
            if value:
                entry[key] = value
        entry.update(_temporal_context())
        for key in ("workflow_id", "ticket", "message_id", "event"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = str(value)
        if record.exc_info:
            entry["exc"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def _temporal_context() -> dict[str, str]:
    """Inside an activity, name its workflow (and the ticket, when the id carries it)."""
    if not activity.in_activity():
        return {}
    info = activity.info()
    context = {"workflow_id": info.workflow_id or "", "activity": info.activity_type}
    if info.workflow_id and info.workflow_id.startswith(("ticket-", "notification-")):
        context["ticket"] = info.workflow_id.split("-", 1)[1][:36]
    return context


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AccessPathFilter(logging.Filter):
    """uvicorn's access line has the raw path and query string: percent-decode it so the
    masks see `?rut=12.345.678-5` or `%2B56912345678` as what they are (control
    characters are encoded back, so a `%0A` cannot forge a log line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", unquote(args[2]))
            record.args = (*args[:2], path, *args[3:])
        return True


def route_uvicorn_logs() -> None:
    """Send uvicorn's server and access logs through our handlers (and so the masks)
    instead of the plain handlers uvicorn installs on them."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessPathFilter) for f in access.filters):
        access.addFilter(AccessPathFilter())


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


def setup_logging(
    service: str, level: str = "INFO", fmt: str = "json", log_dir: Path | None = None
) -> None:
    """Log to stdout; with `log_dir`, also append JSON lines to `<log_dir>/<service>.log`
    (what the daily maintenance counts ERROR lines in, where nothing captures stdout)."""
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handlers: list[logging.Handler] = [handler]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_dir / f"{service}.log", encoding="utf-8")
        to_file.setFormatter(JsonFormatter(service))
        handlers.append(to_file)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    route_uvicorn_logs()
    # httpx logs full URLs, and a Telegram URL carries the bot token.
    for noisy in ("httpx", "httpcore", "aiormq", "aio_pika"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
