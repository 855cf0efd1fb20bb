"""Renders customer messages from template files (Telegram HTML, every value escaped)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("es", "en")
MAX_TELEGRAM_TEXT = 4096
#: A branch name that already says what it is ("Sucursal Centro") is shown as it is.
_BRANCH_WORDS = {"es": ("sucursal",), "en": ("branch", "sucursal")}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("j2",), default=True),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


@lru_cache(maxsize=4)
def labels(language: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEMPLATES / language / "labels.json").read_text("utf-8"))
    return data


def branch_label(name: str, language: str) -> str:
    """The branch's name as the message shows it, the word "Sucursal"/"branch" once:
    "Centro" -> "Sucursal Centro" / "Centro branch"; "Sucursal Centro" stays as it is."""
    name = " ".join(name.split())
    if not name:
        return ""
    lang = language if language in LANGUAGES else "es"
    words = name.lower().split()
    if words[0] in _BRANCH_WORDS[lang] or (lang == "en" and words[-1] == "branch"):
        return name
    return f"Sucursal {name}" if lang == "es" else f"{name} branch"


def estimate_kind(wait: Any) -> str:
    """How a wait is told: "none" (nobody serves the queue now: no time is promised),
    "now" (an advisor is free for this ticket) or "range" (minutes and a range)."""
    if wait is None:
        return "none"
    return "now" if int(getattr(wait, "high", 0)) == 0 else "range"


def render(kind: str, language: str, **values: Any) -> str:
    """Render `kind` (e.g. TICKET_CREATED) in the ticket's language, Spanish by default.

    `estimate` (see `estimate_kind`) says how the wait is told; a caller that gives only
    the figures gets "none" for an all-zero range while someone waits: a zero-width
    range is never shown, and nobody serving the queue is the usual cause."""
    lang = language if language in LANGUAGES else "es"
    if "estimate" not in values:
        values["estimate"] = "range" if int(values.get("high") or 0) > 0 else "none"
    queue_labels = labels(lang)["queue"]
    values.setdefault("queue_label", queue_labels.get(values.get("queue", ""), ""))
    values.setdefault("target_label", queue_labels.get(values.get("target_queue", ""), ""))
    values.setdefault("branch_label", branch_label(str(values.get("branch") or ""), lang))
    text = _env().get_template(f"{lang}/{kind.lower()}.html.j2").render(**values).strip()
    return text[:MAX_TELEGRAM_TEXT]
