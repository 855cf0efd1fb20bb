"""A ticket's audit trail as staff read it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.supervision.helpers import field_errors, take_tickets
from tests.support.branches import add_branch
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


async def test_a_new_ticket_has_its_create_event(
    api: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    branch = await add_branch(api, "Historia")
    (ticket,) = await take_tickets(api, branch, "EMPRESAS", 1)

    resp = await api.get(f"/api/tickets/{ticket['reference']}/history", headers=operator)

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["ticket"]["reference"] == ticket["reference"]
    assert body["ticket"]["number"] == ticket["number"]
    assert body["ticket"]["branchOffice"] == branch
    assert body["ticket"]["status"] == "WAITING"
    assert body["ticket"]["queue"] == "EMPRESAS"
    (event,) = body["events"]
    assert event["action"] == "CREATE"
    assert event["fromStatus"] is None and event["toStatus"] == "WAITING"
    assert event["actor"] == "customer"
    assert event["at"] and "reason" in event and "details" in event


async def test_transitions_follow_in_order(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    (ticket,) = await take_tickets(api, await add_branch(api, "Historia"), "CAJA", 1)
    cancelled = await api.post(
        f"/api/tickets/{ticket['reference']}/cancel", json={"reason": "se fue"}
    )
    assert cancelled.status_code == 200, cancelled.text

    async def two_events() -> Any:
        resp = await api.get(f"/api/tickets/{ticket['reference']}/history", headers=supervisor)
        body = resp.json()
        return body if len(body["events"]) == 2 else None

    body = await eventually(two_events, what="the CANCEL event")
    assert [(e["action"], e["fromStatus"], e["toStatus"]) for e in body["events"]] == [
        ("CREATE", None, "WAITING"),
        ("CANCEL", "WAITING", "CANCELLED"),
    ]
    assert body["events"][1]["reason"] == "se fue"
    assert body["ticket"]["status"] == "CANCELLED"


async def test_unknown_or_malformed_reference(
    api: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    missing = await api.get(
        "/api/tickets/6f1f3c57-8a43-4b8e-9c57-1d1f8f7b2a10/history", headers=operator
    )
    malformed = await api.get("/api/tickets/not-a-uuid/history", headers=operator)

    assert missing.status_code == 404 and missing.json()["status"] == 404
    assert malformed.status_code == 422 and field_errors(malformed) == {"reference"}
