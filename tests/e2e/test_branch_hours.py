"""Opening hours and honest estimates through the API (issue 13, point 3).

Branches here are registered with explicit hours, so each test means the same at
any hour the suite runs: closed by holidays today and tomorrow, or open all day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.branches import TIME_ZONE, bootstrap_headers
from tests.support.data import branch_name, national_id

pytestmark = pytest.mark.e2e

EVERY_DAY = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]


async def _register(api: httpx.AsyncClient, **hours: object) -> str:
    name = branch_name("Horario")
    resp = await api.post(
        "/api/branches",
        json={"name": name, "timeZone": TIME_ZONE, **hours},
        headers=await bootstrap_headers(api),
    )
    assert resp.status_code == 201, resp.text
    return name


def _local_today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(TIME_ZONE)).date()


async def test_a_closed_branch_refuses_tickets_and_names_the_next_opening(
    api: httpx.AsyncClient,
) -> None:
    today = _local_today()
    name = await _register(
        api,
        weeklyHours=[{"weekday": d, "opens": "09:00", "closes": "14:00"} for d in EVERY_DAY],
        holidays=[
            {"day": today.isoformat(), "name": "Feriado"},
            {"day": (today + timedelta(days=1)).isoformat(), "name": "Interferiado"},
        ],
    )
    resp = await api.post(
        "/api/tickets", json={"nationalId": national_id(), "branchOffice": name, "queue": "CAJA"}
    )
    assert resp.status_code == 409, resp.text
    body = resp.json()
    opening = datetime.fromisoformat(body["nextOpening"])
    expected = datetime.combine(today + timedelta(days=2), datetime.min.time()).replace(
        hour=9, tzinfo=ZoneInfo(TIME_ZONE)
    )
    assert opening == expected
    assert body["code"] == "BRANCH_CLOSED" and body["timeZone"] == TIME_ZONE
    assert "está cerrada" in body["message"] and "a las 09:00" in body["message"]
    assert TIME_ZONE in body["message"]


async def test_hours_that_cover_the_whole_day_take_tickets_and_are_listed(
    api: httpx.AsyncClient,
) -> None:
    name = await _register(
        api,
        weeklyHours=[{"weekday": d, "opens": "00:00", "closes": "00:00"} for d in EVERY_DAY],
        earlyMinutes=15,
    )
    resp = await api.post(
        "/api/tickets", json={"nationalId": national_id(), "branchOffice": name, "queue": "CAJA"}
    )
    assert resp.status_code == 201, resp.text


async def test_bad_hours_are_refused(api: httpx.AsyncClient) -> None:
    headers = await bootstrap_headers(api)
    for hours in (
        {"weeklyHours": [{"weekday": "MONDAY", "opens": "14:00", "closes": "09:00"}]},
        {"weeklyHours": [{"weekday": "LUNES", "opens": "09:00", "closes": "14:00"}]},
        {"earlyMinutes": -5},
        {
            "weeklyHours": [
                {"weekday": "MONDAY", "opens": "09:00", "closes": "14:00"},
                {"weekday": "MONDAY", "opens": "15:00", "closes": "16:00"},
            ]
        },
    ):
        resp = await api.post(
            "/api/branches",
            json={"name": branch_name("Malo"), "timeZone": TIME_ZONE, **hours},
            headers=headers,
        )
        assert resp.status_code == 422, (hours, resp.text)


async def test_a_queue_nobody_serves_promises_no_time(api: httpx.AsyncClient) -> None:
    name = await _register(api, openAllHours=True)
    resp = await api.post(
        "/api/tickets",
        json={"nationalId": national_id(), "branchOffice": name, "queue": "EMPRESAS"},
    )
    assert resp.status_code == 201, resp.text
    ticket = resp.json()
    assert ticket["estimatedWaitMinutes"] is None and ticket["estimatedWaitRange"] is None
    assert ticket["estimatedWaitReason"] == "NO_ADVISORS"
    again = (await api.get(f"/api/tickets/{ticket['reference']}")).json()
    assert again["estimatedWaitReason"] == "NO_ADVISORS"

    public = await api.get(f"/api/public/branches/{name}/queues")
    assert public.status_code == 200, public.text
    for queue in public.json()["queues"]:
        assert queue["estimatedWaitMinutes"] is None, queue
        assert queue["estimatedWaitReason"] == "NO_ADVISORS"


async def test_staff_edit_weekly_hours_and_holidays(api: httpx.AsyncClient) -> None:
    headers = await bootstrap_headers(api)
    name = await _register(api, openAllHours=True)
    taken = await api.post(
        "/api/tickets", json={"nationalId": national_id(), "branchOffice": name, "queue": "CAJA"}
    )
    assert taken.status_code == 201, taken.text

    today = _local_today()
    edit = {
        "openAllHours": False,
        "earlyMinutes": 30,
        "weeklyHours": [{"weekday": "SATURDAY", "opens": "10:00", "closes": "13:00"}],
        "holidays": [{"day": today.isoformat(), "name": "Feriado"}],
    }
    resp = await api.put(f"/api/branches/{name}", json=edit, headers=headers)
    assert resp.status_code == 200, resp.text
    hours = resp.json()["hours"]
    assert hours == {
        "weeklyHours": [{"weekday": "SATURDAY", "opens": "10:00", "closes": "13:00"}],
        "holidays": [{"day": today.isoformat(), "name": "Feriado"}],
        "openAllHours": False,
        "earlyMinutes": 30,
    }
    assert (await api.get(f"/api/branches/{name}", headers=headers)).json()["hours"] == hours

    refused = await api.post(
        "/api/tickets", json={"nationalId": national_id(), "branchOffice": name, "queue": "CAJA"}
    )
    assert refused.status_code == 409, refused.text
    opening = datetime.fromisoformat(refused.json()["nextOpening"]).astimezone(ZoneInfo(TIME_ZONE))
    assert opening.weekday() == 5 and opening.strftime("%H:%M") == "10:00"
    tickets_from = datetime.fromisoformat(refused.json()["ticketsFrom"])
    assert tickets_from == opening - timedelta(minutes=30)
    assert "desde las 09:30" in refused.json()["message"]
