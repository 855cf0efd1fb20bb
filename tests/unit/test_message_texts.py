"""Customer texts: the branch's name shown once, every message type in both languages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from domain.contracts import MESSAGE_KINDS
from messaging.texts import branch_label, render

VALUES: dict[str, Any] = {
    "number": "C07",
    "queue": "CAJA",
    "position": 3,
    "ahead": 2,
    "minutes": 10,
    "low": 5,
    "high": 15,
    "status": "WAITING",
    "desk": "4",
    "advisor": "Ana",
    "target_queue": "EMPRESAS",
}
WITH_BRANCH = ("TICKET_CREATED", "TURN_NEAR", "CANCELLED", "EXPIRED", "bot_status")


@pytest.mark.parametrize("kind", WITH_BRANCH)
@pytest.mark.parametrize("name", ["Sucursal Centro", "Centro", "sucursal Centro"])
def test_spanish_messages_say_sucursal_once(kind: str, name: str) -> None:
    text = render(kind, "es", branch=name, **VALUES)
    assert text.lower().count("sucursal") == 1, text
    assert text.count("Centro") == 1, text


@pytest.mark.parametrize("kind", WITH_BRANCH)
@pytest.mark.parametrize("name", ["Sucursal Centro", "Centro", "Centro Branch", "Branch Centro"])
def test_english_messages_say_branch_once(kind: str, name: str) -> None:
    text = render(kind, "en", branch=name, **VALUES)
    lowered = text.lower()
    assert lowered.count("branch") + lowered.count("sucursal") == 1, text
    assert text.count("Centro") == 1, text


def test_branch_label() -> None:
    assert branch_label("Centro", "es") == "Sucursal Centro"
    assert branch_label("Sucursal  Centro", "es") == "Sucursal Centro"
    assert branch_label("Centro", "en") == "Centro branch"
    assert branch_label("Sucursal Centro", "en") == "Sucursal Centro"
    assert branch_label("Centro", "xx") == "Sucursal Centro"


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_every_message_type_has_a_text(kind: str, language: str) -> None:
    text = render(kind, language, branch="Centro", **VALUES)
    assert "C07" in text


def test_final_no_show_and_expiry_say_the_ticket_is_over() -> None:
    assert "no se presentó nuevamente; su turno terminó" in render(
        "NO_SHOW_FINAL", "es", branch="Centro", **VALUES
    )
    assert "your ticket has ended" in render("NO_SHOW_FINAL", "en", branch="Centro", **VALUES)
    assert "venció al cierre de la jornada" in render("EXPIRED", "es", branch="Centro", **VALUES)


def test_cancel_prompt_asks_to_confirm_within_the_time() -> None:
    es = render("bot_cancel_confirm", "es", number="C07", minutes=5)
    assert "responda /confirmar en los próximos 5 minutos" in es
    assert "dentro de 5 minutos" not in es
    en = render("bot_cancel_confirm", "en", number="C07", minutes=5)
    assert "reply /confirm within the next 5 minutes" in en


@pytest.mark.parametrize("kind", [*MESSAGE_KINDS, "bot_help", "bot_no_ticket", "bot_status"])
def test_spanish_texts_use_usted(kind: str) -> None:
    text = render(kind, "es", branch="Centro", **VALUES).lower()
    informal = re.findall(r"\b(tu|tú|te|ti|quieres|tienes|eres|dirígete|avísale)\b", text)
    assert not informal, (informal, text)


@pytest.mark.parametrize("kind", ["TICKET_CREATED", "bot_status"])
def test_a_queue_nobody_serves_gets_no_time_and_never_a_zero_width_range(kind: str) -> None:
    """The reported "0 min (0–0)": a ticket whose queue nobody serves is told so."""
    nobody = {**VALUES, "minutes": 0, "low": 0, "high": 0}
    spanish = render(kind, "es", branch="Centro", **nobody)
    assert "sin ejecutivos atendiendo ahora" in spanish and "0 min" not in spanish, spanish
    english = render(kind, "en", branch="Centro", **nobody)
    assert "no advisors serving now" in english and "0 min" not in english, english
    called_soon = render(kind, "es", branch="Centro", estimate="now", **nobody)
    assert "lo llamarán en breve" in called_soon and "entre 0 y 0" not in called_soon
    timed = render(kind, "es", branch="Centro", **VALUES)
    assert "~10 min</b> (entre 5 y 15 min)" in timed
