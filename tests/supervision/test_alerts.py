"""Branch alerts from the real read model: unattended and critical queues."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.supervision.helpers import add_advisor, at, auth, take_tickets
from tests.support.branches import add_branch

pytestmark = pytest.mark.e2e


async def alerts_of(
    api: httpx.AsyncClient, branch: str, supervisor: dict[str, str]
) -> dict[str, Any]:
    resp = await api.get(f"{at(branch)}/alerts", headers=supervisor)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def kinds(report: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(a["kind"], a["queue"]) for a in report["alerts"]]


async def test_a_queue_nobody_serves_is_unattended(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await add_branch(api, "Alertas")
    teller = await add_advisor(api, supervisor, branch, 1, ["CAJA"], with_login=True)
    ready = await api.put(
        "/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=auth(teller["token"])
    )
    assert ready.status_code == 200 and ready.json()["ticket"] is None
    await take_tickets(api, branch, "GERENCIA", 2)

    report = await alerts_of(api, branch, supervisor)

    assert report["branchOffice"] == branch
    assert isinstance(report["withinOpeningHours"], bool)
    assert datetime.fromisoformat(report["evaluatedAt"]).tzinfo is not None
    assert kinds(report) == [("QUEUE_UNATTENDED", "GERENCIA")]
    (alert,) = report["alerts"]
    assert alert["severity"] == "HIGH"
    assert alert["value"] == 2.0
    assert "GERENCIA" in alert["message"] and "2 turnos" in alert["message"]
    assert alert["ticketNumber"] is None and alert["advisorId"] is None


async def test_more_than_fifteen_waiting_is_critical(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await add_branch(api, "Alertas")
    await take_tickets(api, branch, "CAJA", 15)

    at_limit = await alerts_of(api, branch, supervisor)
    assert kinds(at_limit) == [("QUEUE_UNATTENDED", "CAJA")]  # 15 is the limit, not past it

    await take_tickets(api, branch, "CAJA", 1)
    report = await alerts_of(api, branch, supervisor)

    # HIGH alerts are listed kind by kind: critical before unattended.
    assert kinds(report) == [("QUEUE_CRITICAL", "CAJA"), ("QUEUE_UNATTENDED", "CAJA")]
    critical = report["alerts"][0]
    assert critical["severity"] == "HIGH" and critical["value"] == 16.0
    assert "16 turnos" in critical["message"]


async def test_failed_messages_and_long_offline_advisors(
    api: httpx.AsyncClient, supervisor: dict[str, str], db: AsyncEngine
) -> None:
    branch = await add_branch(api, "Alertas")
    absent = await add_advisor(api, supervisor, branch, 1, ["CAJA"])
    await api.put(at(branch), json={"opensAt": "00:00", "closesAt": "23:59"}, headers=supervisor)
    (ticket,) = await take_tickets(api, branch, "CAJA", 1)
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO mensaje (id, ticket_reference, type, channel, chat_id, state, text,"
                " parse_mode, scheduled_at) VALUES (:id, :r, 'TEST_FAILED', 'telegram', 1,"
                " 'FAILED', 'x', 'HTML', now())"
            ),
            {"id": uuid.uuid4(), "r": ticket["reference"]},
        )
        await conn.execute(
            text("UPDATE advisor SET status_since = now() - interval '2 hours' WHERE id = :a"),
            {"a": absent["id"]},
        )

    report = await alerts_of(api, branch, supervisor)

    failing = [a for a in report["alerts"] if a["kind"] == "NOTIFICATIONS_FAILING"]
    assert [(a["severity"], a["value"]) for a in failing] == [("HIGH", 1.0)]
    inactive = [a for a in report["alerts"] if a["kind"] == "ADVISOR_INACTIVE"]
    if report["withinOpeningHours"]:  # open all day but 23:59
        assert [(a["advisorId"], a["severity"]) for a in inactive] == [(absent["id"], "MEDIUM")]
        assert absent["name"] in inactive[0]["message"]
    else:
        assert inactive == []
