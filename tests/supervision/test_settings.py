"""Branch and queue settings: listed, edited, persisted and validated."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.supervision.helpers import at, field_errors, take_tickets
from tests.support.branches import add_branch
from tests.support.data import branch_name

pytestmark = pytest.mark.e2e


async def new_branch(api: httpx.AsyncClient) -> str:
    branch = await add_branch(api, "Ajustes")
    await take_tickets(api, branch, "CAJA", 1)
    return branch


def queue(branch: dict[str, Any], name: str) -> dict[str, Any]:
    return next(q for q in branch["queues"] if q["queue"] == name)


async def test_branches_list_their_settings(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await new_branch(api)

    resp = await api.get("/api/branches", headers=supervisor)

    assert resp.status_code == 200, resp.text
    (listed,) = [b for b in resp.json() if b["name"] == branch]
    assert listed["timeZone"] == "America/Santiago"
    assert (listed["opensAt"], listed["closesAt"]) == ("09:00", "14:00")
    assert queue(listed, "CAJA") == {
        "queue": "CAJA",
        "prefix": "C",
        "avgServiceMinutes": 5.0,
        "serviceSamples": 0,
        "priority": 1,
        "notifyThreshold": 3,
        "targetWaitMinutes": 15,
        "noShowSeconds": 300,
    }
    assert queue(listed, "GERENCIA")["priority"] == 4


async def test_branch_hours_and_zone_edits_persist(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await new_branch(api)

    resp = await api.put(
        at(branch.upper()),
        json={"timeZone": "America/Punta_Arenas", "opensAt": "08:30", "closesAt": "13:45"},
        headers=supervisor,
    )
    only_close = await api.put(at(branch), json={"closesAt": "15:00"}, headers=supervisor)

    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == branch
    shown = (await api.get(at(branch), headers=supervisor)).json()
    assert (shown["timeZone"], shown["opensAt"], shown["closesAt"]) == (
        "America/Punta_Arenas",
        "08:30",
        "15:00",
    )
    assert only_close.status_code == 200
    board = (await api.get(f"{at(branch)}/dashboard", headers=supervisor)).json()
    assert board["timeZone"] == "America/Punta_Arenas"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timeZone": "Mars/Olympus"}, "timeZone"),
        ({"timeZone": "../../etc/passwd"}, "timeZone"),
        ({"timeZone": None}, "timeZone"),
        ({"opensAt": "25:00"}, "opensAt"),
        ({"opensAt": "09:00+02:00"}, "opensAt"),
        ({"opensAt": "14:00"}, "opensAt"),
        ({"closesAt": "08:00"}, "closesAt"),
        ({"opensAt": "10:00", "closesAt": "10:00"}, "closesAt"),
        ({"open": "10:00"}, "open"),
    ],
)
async def test_invalid_branch_edits_are_422(
    api: httpx.AsyncClient, supervisor: dict[str, str], body: dict[str, Any], field: str
) -> None:
    branch = await new_branch(api)

    resp = await api.put(at(branch), json=body, headers=supervisor)

    assert resp.status_code == 422, resp.text
    assert field_errors(resp) == {field}
    shown = (await api.get(at(branch), headers=supervisor)).json()
    assert (shown["timeZone"], shown["opensAt"], shown["closesAt"]) == (
        "America/Santiago",
        "09:00",
        "14:00",
    )


async def test_queue_edits_persist_and_reseed_the_average(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await new_branch(api)
    changes = {
        "avgServiceMinutes": 7.5,
        "priority": 9,
        "notifyThreshold": 5,
        "targetWaitMinutes": 25,
        "noShowSeconds": 120,
    }

    resp = await api.put(f"{at(branch)}/queues/caja", json=changes, headers=supervisor)

    assert resp.status_code == 200, resp.text
    listed = (await api.get("/api/branches", headers=supervisor)).json()
    cash = queue(next(b for b in listed if b["name"] == branch), "CAJA")
    assert cash == {"queue": "CAJA", "prefix": "C", "serviceSamples": 0, **changes}
    stats = (await api.get(f"{at(branch)}/queues/CAJA/stats", headers=supervisor)).json()
    assert stats["service"] == {"averageMinutes": 7.5, "samples": 0}
    # One waits ahead of a newcomer, nobody serves: two services of 7.5 minutes.
    assert stats["estimate"]["minutes"] == 15


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prefix": "X"}, "prefix"),
        ({"avgServiceMinutes": 0}, "avgServiceMinutes"),
        ({"avgServiceMinutes": 481}, "avgServiceMinutes"),
        ({"priority": 0}, "priority"),
        ({"priority": 11}, "priority"),
        ({"notifyThreshold": 51}, "notifyThreshold"),
        ({"targetWaitMinutes": 0}, "targetWaitMinutes"),
        ({"targetWaitMinutes": 481}, "targetWaitMinutes"),
        ({"noShowSeconds": 29}, "noShowSeconds"),
        ({"noShowSeconds": 3601}, "noShowSeconds"),
        ({"priority": "alta"}, "priority"),
        ({"priority": None}, "priority"),
    ],
)
async def test_invalid_queue_edits_are_422(
    api: httpx.AsyncClient, supervisor: dict[str, str], body: dict[str, Any], field: str
) -> None:
    branch = await new_branch(api)

    resp = await api.put(f"{at(branch)}/queues/CAJA", json=body, headers=supervisor)

    assert resp.status_code == 422, resp.text
    assert field_errors(resp) == {field}


async def test_unknown_branch_or_queue_edits_are_404(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = await new_branch(api)
    for path, body in (
        (at(branch_name()), {"opensAt": "09:30"}),
        (f"{at(branch_name())}/queues/CAJA", {"priority": 2}),
        (f"{at(branch)}/queues/VIP", {"priority": 2}),
        (at(branch_name()), None),
    ):
        method = "GET" if body is None else "PUT"
        resp = await api.request(method, path, json=body, headers=supervisor)
        assert resp.status_code == 404, (path, resp.text)
