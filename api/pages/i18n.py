"""Every text of the pages, in Spanish (default) and English, from one catalogue.

`messages/es.json` and `messages/en.json` are flat maps of dotted keys
(`kiosk.title`, `common.skip`) to texts with `{name}` placeholders; both must hold
the same keys (tests/pages/test_i18n.py checks). The language of a request is
`?lang=`, then the `lang` cookie, then `Accept-Language`, then Spanish.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Final

from starlette.requests import Request

LANGUAGES: Final = ("es", "en")
DEFAULT_LANGUAGE: Final = "es"
COOKIE: Final = "lang"
MESSAGES_DIR: Final = Path(__file__).parent / "messages"


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """The texts of one language (read once)."""
    data = json.loads((MESSAGES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def _supported(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().lower()[:2]
    return code if code in LANGUAGES else None


def from_accept_language(header: str) -> str | None:
    """The first supported language of an Accept-Language header, by q-value."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        code = _supported(tag)
        if code and quality > 0:
            ranked.append((-quality, index, code))
    return min(ranked)[2] if ranked else None


def choose_language(request: Request) -> tuple[str, bool]:
    """The page language and whether it was asked for in the query (remember it then)."""
    asked = _supported(request.query_params.get("lang"))
    if asked:
        return asked, True
    return (
        _supported(request.cookies.get(COOKIE))
        or from_accept_language(request.headers.get("accept-language", ""))
        or DEFAULT_LANGUAGE
    ), False


class Translator:
    """`t("kiosk.title", branch="Test")`: the text in this language (Spanish, then the key,
    when missing)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.texts = catalogue(lang)
        self.fallback = catalogue(DEFAULT_LANGUAGE)

    def __call__(self, key: str, **values: object) -> str:
        text = self.texts.get(key) or self.fallback.get(key) or key
        return text.format(**values) if values else text

    def subset(self, prefixes: Iterable[str]) -> dict[str, str]:
        """The texts whose keys start with one of `prefixes` (what a page's script needs)."""
        wanted = tuple(prefixes)
        return {k: v for k, v in self.texts.items() if k.startswith(wanted)}
