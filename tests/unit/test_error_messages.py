"""The error catalogue: every key in both languages with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from api.error_messages import CATALOGUE, EN, ES, Localized, negotiate, placeholders, render

API = Path(__file__).resolve().parents[2] / "api"


def test_every_key_exists_in_both_languages_with_the_same_placeholders() -> None:
    assert set(ES) == set(EN)
    for key in ES:
        assert placeholders(ES[key]) == placeholders(EN[key]), key
        assert ES[key].strip() and EN[key].strip(), key


def test_every_key_raised_in_the_api_is_in_the_catalogue() -> None:
    raised = set()
    for path in API.rglob("*.py"):
        text = path.read_text()
        raised |= set(re.findall(r'ApiError\(\s*\d{3},\s*"([a-z_]+\.[a-z_0-9]+)"', text))
        raised |= set(re.findall(r'_too_many\("([a-z_]+\.[a-z_0-9]+)"', text))
    assert raised, "no keyed ApiError found"
    assert raised <= set(ES), raised - set(ES)


def test_no_raise_passes_free_text() -> None:
    """Every `ApiError(status, ...)` names a key: a literal key, a key constant (upper
    case) or a variable holding one; never a sentence, even spread over lines."""
    for path in API.rglob("*.py"):
        source = path.read_text()
        for match in re.finditer(r'ApiError\(\s*\d{3},\s*(f?"[^"]*"|[A-Za-z_.]+\(?)', source):
            arg = match.group(1)
            if arg.startswith(('f"', '"')):
                assert re.fullmatch(r'"[a-z_]+\.[a-z_0-9]+"', arg), (path.name, arg)


def test_language_negotiation() -> None:
    assert negotiate(None) == "es"
    assert negotiate("") == "es"
    assert negotiate("en") == "en"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("es-CL,es;q=0.9,en;q=0.8") == "es"
    assert negotiate("fr-FR, en;q=0.5") == "en"
    assert negotiate("fr") == "es"
    assert negotiate("es;q=0.2, en;q=0.7") == "en"
    assert set(CATALOGUE) == {"es", "en"}


def test_render_fills_placeholders() -> None:
    assert render("ticket.not_found", "en", {"reference": "x"}) == "No ticket with reference x"
    assert "x" in render("ticket.not_found", "es", {"reference": "x"})
    assert render("not a key", "en") == "not a key"


def test_a_localized_value_is_rendered_in_the_message_language() -> None:
    opening = Localized(es="lunes 30 de noviembre a las 09:00", en="Monday, November 30 at 09:00")
    params = {"branch": "Centro", "opening": opening, "zone": "America/Santiago"}
    english = render("branch.closed", "en", params)
    assert english == (
        "Branch Centro is closed. It opens Monday, November 30 at 09:00 (America/Santiago time)."
    )
    assert "lunes" not in english and "noviembre" not in english
    assert "Abre el lunes 30 de noviembre a las 09:00" in render("branch.closed", "es", params)
    assert "entrega números desde las 08:30" in render(
        "branch.closed_early", "es", {**params, "tickets_from": "08:30"}
    )
