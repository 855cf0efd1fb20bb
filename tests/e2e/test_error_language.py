"""API errors speak the caller's language: Spanish by default, English when asked."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e

EN = {"Accept-Language": "en-US,en;q=0.9"}
ES = {"Accept-Language": "es-CL,es;q=0.9"}


async def test_not_found_in_spanish_by_default_and_english_when_asked(
    api: httpx.AsyncClient,
) -> None:
    reference = uuid.uuid4()
    default = await api.get(f"/api/tickets/{reference}")
    spanish = await api.get(f"/api/tickets/{reference}", headers=ES)
    english = await api.get(f"/api/tickets/{reference}", headers=EN)
    assert default.status_code == spanish.status_code == english.status_code == 404
    assert default.json()["message"] == spanish.json()["message"]
    assert spanish.json()["message"] == f"No existe un turno con la referencia {reference}"
    assert english.json()["message"] == f"No ticket with reference {reference}"


async def test_validation_and_auth_errors_in_both_languages(api: httpx.AsyncClient) -> None:
    es = await api.post("/api/tickets", json={}, headers=ES)
    en = await api.post("/api/tickets", json={}, headers=EN)
    assert es.status_code == en.status_code == 422
    assert es.json()["message"].startswith("Solicitud inválida: ")
    assert en.json()["message"].startswith("Invalid request: ")
    assert {e["field"] for e in es.json()["errors"]} == {e["field"] for e in en.json()["errors"]}
    assert "es obligatorio" in es.json()["message"]
    es = await api.get("/api/advisors/me", headers=ES)
    en = await api.get("/api/advisors/me", headers=EN)
    assert es.status_code == en.status_code == 401
    assert (es.json()["message"], en.json()["message"]) == ("No autenticado", "Not authenticated")


async def test_generic_404_and_405_in_both_languages(api: httpx.AsyncClient) -> None:
    es = await api.get("/api/no-such-thing", headers=ES)
    en = await api.get("/api/no-such-thing", headers=EN)
    assert es.json()["message"] == "Recurso no encontrado"
    assert en.json()["message"] == "Not found"
    es = await api.delete("/api/tickets", headers=ES)
    en = await api.delete("/api/tickets", headers=EN)
    assert es.status_code == en.status_code == 405
    assert es.json()["message"] == "Método no permitido"
    assert en.json()["message"] == "Method not allowed"
