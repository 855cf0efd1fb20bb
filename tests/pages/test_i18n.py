"""The pages' catalogue: both languages hold the same keys and placeholders; the language
is ?lang=, then the cookie, then Accept-Language, then Spanish."""

from __future__ import annotations

import re

import pytest
from starlette.requests import Request

from api.pages.i18n import LANGUAGES, Translator, catalogue, choose_language, from_accept_language

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    es, en = catalogue("es"), catalogue("en")
    assert set(es) == set(en)
    for key in es:
        assert set(PLACEHOLDER.findall(es[key])) == set(PLACEHOLDER.findall(en[key])), key
        assert es[key].strip() and en[key].strip(), key


def request(query: str = "", cookie: str = "", accept: str = "") -> Request:
    headers = []
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if accept:
        headers.append((b"accept-language", accept.encode()))
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "query_string": query.encode(),
            "headers": headers,
        }
    )


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("", "", "", ("es", False)),
        ("lang=en", "lang=es", "es-CL", ("en", True)),
        ("lang=fr", "lang=en", "es", ("en", False)),
        ("", "", "en-US,en;q=0.9,es;q=0.8", ("en", False)),
        ("", "", "fr-FR, es;q=0.5, en;q=0.4", ("es", False)),
        ("", "", "de", ("es", False)),
    ],
)
def test_language_choice(query: str, cookie: str, accept: str, expected: tuple[str, bool]) -> None:
    assert choose_language(request(query, cookie, accept)) == expected


def test_accept_language_weights_and_translator_fallback() -> None:
    assert from_accept_language("es;q=0.2, en;q=0.9") == "en"
    assert from_accept_language("en;q=0") is None
    t = Translator("en")
    assert t("kiosk.branch", branch="Test") == "Branch Test"
    assert t("no.such.key") == "no.such.key"
    assert set(LANGUAGES) == {"es", "en"}
