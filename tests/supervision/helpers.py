"""Shared steps of the supervision tests: staff tokens, advisors and tickets over HTTP."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx

from tests.support.data import ticket_body

PASSWORD = "supervision-test-pw"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def at(branch: str) -> str:
    """The branch as a path segment (names have spaces)."""
    return "/api/branches/" + quote(branch, safe="")


async def login(api: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    resp = await api.post("/api/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def advisor_body(branch: str, desk: int, queues: list[str], **extra: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:10]
    return {
        "name": f"Ejecutivo {tag}",
        "email": f"ejecutivo.{tag}@bank.test",
        "desk": desk,
        "queues": queues,
        "branchOffice": branch,
        **extra,
    }


async def add_advisor(
    api: httpx.AsyncClient,
    supervisor: dict[str, str],
    branch: str,
    desk: int,
    queues: list[str],
    *,
    with_login: bool = False,
) -> dict[str, Any]:
    """Create an advisor through the management API; with a login, `token` is added."""
    extra = {"username": f"adv-{uuid.uuid4().hex[:10]}", "password": PASSWORD} if with_login else {}
    resp = await api.post(
        "/api/advisors", json=advisor_body(branch, desk, queues, **extra), headers=supervisor
    )
    assert resp.status_code == 201, resp.text
    advisor: dict[str, Any] = resp.json()
    # an advisor may register the branch: open it at all hours, so tickets are taken there
    # whatever the time the suite runs
    opened = await api.put(
        f"/api/branches/{branch}", json={"openAllHours": True}, headers=supervisor
    )
    assert opened.status_code == 200, opened.text
    if with_login:
        advisor["token"] = await login(api, str(extra["username"]))
    return advisor


async def take_tickets(
    api: httpx.AsyncClient, branch: str, queue: str, count: int
) -> list[dict[str, Any]]:
    """`count` tickets in arrival order (one after the other, so numbers follow it)."""
    tickets = []
    for _ in range(count):
        resp = await api.post("/api/tickets", json=ticket_body(branch, queue))
        assert resp.status_code == 201, resp.text
        tickets.append(resp.json())
    return tickets


def field_errors(resp: httpx.Response) -> set[str]:
    return {e["field"] for e in resp.json().get("errors", [])}
