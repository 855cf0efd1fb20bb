"""Kiosks authenticate as devices: a token bound to a branch, issued by a supervisor or an
operator, stored hashed, revocable."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.staff import Staff, add_advisor

pytestmark = pytest.mark.e2e


def kiosks(branch: str) -> str:
    return f"/api/branches/{quote(branch, safe='')}/kiosks"


async def issue(
    api: httpx.AsyncClient, branch: str, who: Staff, label: str = "hall"
) -> dict[str, Any]:
    resp = await api.post(kiosks(branch), json={"label": label}, headers=who.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def test_a_supervisor_issues_a_token_the_kiosk_takes_tickets_with(
    api: httpx.AsyncClient, db: AsyncEngine, supervisor: Staff
) -> None:
    branch = await add_branch(api, "Kiosco")

    kiosk = await issue(api, branch, supervisor, "  Entrada   principal ")
    token = kiosk["token"]
    created = await api.post(
        "/api/tickets", json=ticket_body(branch), headers={"X-Kiosk-Token": token}
    )

    assert kiosk["label"] == "Entrada principal" and kiosk["branchOffice"] == branch
    assert kiosk["createdBy"] == supervisor.username and kiosk["revokedAt"] is None
    assert len(token) >= 40
    assert created.status_code == 201, created.text
    async with db.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT token_hash FROM kiosk WHERE id = :i"), {"i": kiosk["id"]}
            )
        ).scalar_one()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    listed = await api.get(kiosks(branch), headers=supervisor.headers)
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
    assert [k["id"] for k in listed.json()] == [kiosk["id"]]
    assert "token" not in listed.json()[0]


async def test_a_revoked_token_is_refused_at_once(api: httpx.AsyncClient, operator: Staff) -> None:
    branch = await add_branch(api, "Revocado")
    kiosk = await issue(api, branch, operator)
    headers = {"X-Kiosk-Token": kiosk["token"]}
    assert (await api.post("/api/tickets", json=ticket_body(branch), headers=headers)).is_success

    revoked = await api.delete(f"{kiosks(branch)}/{kiosk['id']}", headers=operator.headers)
    after = await api.post("/api/tickets", json=ticket_body(branch), headers=headers)

    assert revoked.status_code == 204
    assert after.status_code == 401 and after.json()["status"] == 401
    listed = (await api.get(kiosks(branch), headers=operator.headers)).json()
    assert listed[0]["revokedAt"] is not None
    missing = await api.delete(f"{kiosks(branch)}/2000000000", headers=operator.headers)
    assert missing.status_code == 404


async def test_a_token_works_only_for_its_own_branch(
    api: httpx.AsyncClient, supervisor: Staff
) -> None:
    branch, other = await add_branch(api, "Propia"), await add_branch(api, "Ajena")
    kiosk = await issue(api, branch, supervisor)

    elsewhere = await api.post(
        "/api/tickets", json=ticket_body(other), headers={"X-Kiosk-Token": kiosk["token"]}
    )
    forged = await api.post(
        "/api/tickets", json=ticket_body(branch), headers={"X-Kiosk-Token": "kiosk_forged"}
    )

    assert elsewhere.status_code == 403
    assert {e["field"] for e in elsewhere.json()["errors"]} == {"branchOffice"}
    assert forged.status_code == 401


async def test_customers_and_advisors_cannot_issue_or_revoke(
    api: httpx.AsyncClient, db: AsyncEngine, supervisor: Staff
) -> None:
    branch = await add_branch(api, "Permisos")
    advisor = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    kiosk = await issue(api, branch, supervisor)

    assert (await api.post(kiosks(branch), json={"label": "x"})).status_code == 401
    as_advisor = await api.post(kiosks(branch), json={"label": "x"}, headers=advisor.headers)
    assert as_advisor.status_code == 403
    revoke = await api.delete(f"{kiosks(branch)}/{kiosk['id']}", headers=advisor.headers)
    assert revoke.status_code == 403
    assert (await api.get(kiosks(branch))).status_code == 401


async def test_bad_labels_and_unknown_branches(api: httpx.AsyncClient, supervisor: Staff) -> None:
    branch = await add_branch(api, "Etiqueta")
    bad = await api.post(kiosks(branch), json={"label": "hall\x00"}, headers=supervisor.headers)
    unknown = await api.post(
        kiosks("No existe xyz"), json={"label": "hall"}, headers=supervisor.headers
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"label"}
    assert unknown.status_code == 404
