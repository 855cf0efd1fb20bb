"""Every supervision and management endpoint: 401 without a token, 403 for the wrong role."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

BRANCH = "/api/branches/Sucursal%20Roles"
SUPERVISOR_ONLY: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/branches", None),
    ("GET", BRANCH, None),
    ("PUT", BRANCH, {"opensAt": "09:00"}),
    ("PUT", f"{BRANCH}/queues/CAJA", {"priority": 2}),
    ("GET", f"{BRANCH}/dashboard", None),
    ("GET", f"{BRANCH}/queues/CAJA/stats", None),
    ("GET", f"{BRANCH}/advisors", None),
    ("GET", f"{BRANCH}/alerts", None),
    ("POST", "/api/advisors", {"name": "X", "email": "x@y.cl", "desk": 1, "queues": ["CAJA"]}),
    ("GET", "/api/advisors", None),
    ("GET", "/api/advisors/1", None),
    ("PATCH", "/api/advisors/1", {"name": "Y"}),
]
HISTORY = ("GET", f"/api/tickets/{uuid.uuid4()}/history", None)
EVERY = [*SUPERVISOR_ONLY, HISTORY]


def _ids(case: tuple[str, str, Any]) -> str:
    return f"{case[0]} {case[1]}"


@pytest.mark.parametrize("case", EVERY, ids=_ids)
async def test_without_a_token_is_401(
    api: httpx.AsyncClient, case: tuple[str, str, dict[str, Any] | None]
) -> None:
    method, path, body = case
    resp = await api.request(method, path, json=body)
    assert resp.status_code == 401, resp.text
    assert resp.headers["www-authenticate"] == "Bearer"
    assert resp.json()["status"] == 401


@pytest.mark.parametrize("case", SUPERVISOR_ONLY, ids=_ids)
async def test_operator_and_advisor_get_403(
    api: httpx.AsyncClient,
    operator: dict[str, str],
    advisor: dict[str, str],
    case: tuple[str, str, dict[str, Any] | None],
) -> None:
    method, path, body = case
    for headers in (operator, advisor):
        resp = await api.request(method, path, json=body, headers=headers)
        assert resp.status_code == 403, resp.text
        assert resp.json()["status"] == 403


async def test_a_bad_token_is_401(api: httpx.AsyncClient) -> None:
    resp = await api.get(f"{BRANCH}/dashboard", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401


async def test_every_staff_role_may_read_a_ticket_history(
    api: httpx.AsyncClient,
    operator: dict[str, str],
    advisor: dict[str, str],
    supervisor: dict[str, str],
) -> None:
    method, path, _ = HISTORY
    for headers in (operator, advisor, supervisor):
        resp = await api.request(method, path, headers=headers)
        assert resp.status_code == 404, resp.text  # allowed in; the ticket does not exist
