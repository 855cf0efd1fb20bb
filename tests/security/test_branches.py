"""Branches are registered by staff; a ticket for an unknown branch is a 404 listing the
known ones; lists are paged; text staff types is validated like `branchOffice`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.branches import add_branch
from tests.support.data import branch_name, ticket_body
from tests.support.stack import Stack
from tests.support.staff import Staff, add_advisor

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def fields(resp: httpx.Response) -> set[str]:
    return {e["field"] for e in resp.json().get("errors", [])}


async def run(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(REPO),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def at(branch: str) -> str:
    return "/api/branches/" + quote(branch, safe="")


async def test_unknown_branch_is_404_listing_the_known_ones(api: httpx.AsyncClient) -> None:
    first = await add_branch(api, "AAA")  # sorts first: within the capped list
    unknown = branch_name("Inexistente")

    resp = await api.post("/api/tickets", json=ticket_body(unknown))

    assert resp.status_code == 404, resp.text
    body = resp.json()
    assert body["status"] == 404 and unknown in body["message"]
    assert fields(resp) == {"branchOffice"}
    known = body["knownBranches"]
    assert first in known and unknown not in known
    assert len(known) <= 20 and known == sorted(known, key=str.lower)
    assert body["knownBranchesTotal"] >= len(known)


async def test_the_list_in_the_404_is_capped_by_the_setting(
    api: httpx.AsyncClient, limited_api: httpx.AsyncClient
) -> None:
    for _ in range(6):
        await add_branch(api, "Tope")
    resp = await limited_api.post("/api/tickets", json=ticket_body(branch_name("Nada")))
    assert resp.status_code == 404
    assert len(resp.json()["knownBranches"]) == 5  # BRANCHES_IN_ERROR_MAX of that API


async def test_a_customer_cannot_create_a_branch(
    api: httpx.AsyncClient, db: AsyncEngine, supervisor: Staff
) -> None:
    name = branch_name("Cliente")
    body = {"name": name, "timeZone": "America/Santiago"}
    advisor = await add_advisor(db, api, await add_branch(api), desk=1, queues=["CAJA"])

    by_ticket = await api.post("/api/tickets", json=ticket_body(name))
    anonymous = await api.post("/api/branches", json=body)
    as_advisor = await api.post("/api/branches", json=body, headers=advisor.headers)

    assert by_ticket.status_code == 404
    assert anonymous.status_code == 401
    assert as_advisor.status_code == 403
    assert (await api.get(at(name), headers=supervisor.headers)).status_code == 404


async def test_staff_register_a_branch_with_default_queues(
    api: httpx.AsyncClient, supervisor: Staff, operator: Staff
) -> None:
    name = branch_name("Nueva")
    body = {"name": f"  {name} ", "timeZone": "America/Punta_Arenas", "opensAt": "08:30"}

    created = await api.post("/api/branches", json=body, headers=supervisor.headers)
    again = await api.post(
        "/api/branches",
        json={"name": name.upper(), "timeZone": "UTC"},
        headers=operator.headers,
    )
    by_operator = await api.post(
        "/api/branches",
        json={"name": branch_name(), "timeZone": "UTC"},
        headers=operator.headers,
    )

    assert created.status_code == 201, created.text
    assert created.json()["name"] == name
    assert again.status_code == 409 and fields(again) == {"name"}
    assert by_operator.status_code == 201
    settings = (await api.get(at(name), headers=supervisor.headers)).json()
    assert settings["timeZone"] == "America/Punta_Arenas" and settings["opensAt"] == "08:30"
    assert {q["queue"] for q in settings["queues"]} == {
        "CAJA",
        "PERSONAL_BANKER",
        "EMPRESAS",
        "GERENCIA",
    }
    # registered with hours (default Monday to Friday): open it at all hours to take one
    # whatever the time the suite runs (tests/e2e/test_branch_hours.py tests the hours)
    opened = await api.put(at(name), json={"openAllHours": True}, headers=supervisor.headers)
    assert opened.status_code == 200, opened.text
    ticket = await api.post("/api/tickets", json=ticket_body(name.lower()))
    assert ticket.status_code == 201, ticket.text
    assert ticket.json()["branchOffice"] == name


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Centro\x1b[31m", "timeZone": "UTC"}, "name"),
        ({"name": "Centro \u202eortneC", "timeZone": "UTC"}, "name"),
        ({"name": "x" * 101, "timeZone": "UTC"}, "name"),
        ({"name": "   ", "timeZone": "UTC"}, "name"),
        ({"name": "Centro", "timeZone": "Mars/Olympus"}, "timeZone"),
    ],
)
async def test_invalid_branch_is_422_naming_the_field(
    api: httpx.AsyncClient, supervisor: Staff, body: dict[str, str], field: str
) -> None:
    resp = await api.post("/api/branches", json=body, headers=supervisor.headers)
    assert resp.status_code == 422, resp.text
    assert fields(resp) == {field}


async def test_the_runbook_functional_test_gets_201_on_the_seeded_test_branch(
    api: httpx.AsyncClient, stack: Stack, supervisor: Staff
) -> None:
    """RUNBOOK.md's curl, as written (only the host changes), on a branch that no ticket
    created: the migration seeds it."""
    seeded = await api.get(at("Test"), headers=supervisor.headers)
    assert seeded.status_code == 200, seeded.text
    runbook = (REPO / "RUNBOOK.md").read_text(encoding="utf-8")
    match = re.search(
        r"curl -X POST http://localhost:8080/api/tickets.*?'(\{.*?\})'", runbook, re.S
    )
    assert match and '"branchOffice":"Test"' in match.group(1)
    curl = (
        f"curl -s -w '\\n%{{http_code}}' -X POST {stack.api_url}/api/tickets"
        f" -H 'Content-Type: application/json' -d {shlex.quote(match.group(1))}"
    )

    _, out, _ = await run("bash", "-c", curl)

    body, code = out.rsplit("\n", 1)
    if code == "409":  # tests/e2e took the runbook person's ticket there earlier this session
        assert json.loads(body)["activeTicket"]["branchOffice"] == "Test", body
    else:
        assert code == "201", out


async def test_cli_registers_a_branch(
    api: httpx.AsyncClient, stack: Stack, supervisor: Staff
) -> None:
    name = branch_name("Cli")
    env = {**os.environ, **stack.env}
    cli = (sys.executable, "-m", "cli.main", "branches", "add")
    add = await run(*cli, name, "--time-zone", "UTC", env=env)
    again = await run(*cli, name.lower(), env=env)

    assert add[0] == 0, add[2]
    assert name in add[1]
    assert again[0] == 1 and "already exists" in again[2]
    opened = await api.put(at(name), json={"openAllHours": True}, headers=supervisor.headers)
    assert opened.status_code == 200, opened.text
    assert (await api.post("/api/tickets", json=ticket_body(name))).status_code == 201


async def test_lists_are_paged_with_a_total_and_a_next_link(
    api: httpx.AsyncClient, supervisor: Staff
) -> None:
    for _ in range(3):
        await add_branch(api, "Pagina")

    first = await api.get("/api/branches", params={"limit": 2}, headers=supervisor.headers)

    assert first.status_code == 200
    assert len(first.json()) == 2
    total = int(first.headers["X-Total-Count"])
    assert total >= 3
    link = re.fullmatch(r'<(.+)>; rel="next"', first.headers["Link"])
    assert link and "offset=2" in link.group(1) and "limit=2" in link.group(1)
    second = await api.get(link.group(1), headers=supervisor.headers)
    assert second.status_code == 200
    assert {b["name"] for b in first.json()}.isdisjoint({b["name"] for b in second.json()})

    default = await api.get("/api/branches", headers=supervisor.headers)
    assert len(default.json()) == min(total, 100)
    too_many = await api.get("/api/branches", params={"limit": 501}, headers=supervisor.headers)
    assert too_many.status_code == 422 and fields(too_many) == {"limit"}
    negative = await api.get("/api/branches", params={"offset": -1}, headers=supervisor.headers)
    assert negative.status_code == 422 and fields(negative) == {"offset"}


async def test_every_list_endpoint_takes_limit_and_offset(
    api: httpx.AsyncClient, db: AsyncEngine, supervisor: Staff
) -> None:
    branch = await add_branch(api, "Listas")
    for desk in (1, 2, 3):
        await add_advisor(db, api, branch, desk=desk, queues=["CAJA"])
    tickets = [(await api.post("/api/tickets", json=ticket_body(branch))).json() for _ in range(3)]
    page = {"limit": 1, "offset": 1}
    paths = [
        "/api/advisors",
        f"{at(branch)}/advisors",
        f"{at(branch)}/queues/CAJA/stats",
        f"{at(branch)}/alerts",
        f"/api/tickets/{tickets[0]['reference']}/history",
    ]
    for path in paths:
        resp = await api.get(path, params=page, headers=supervisor.headers)
        assert resp.status_code == 200, (path, resp.text)
        assert "X-Total-Count" in resp.headers, path
    advisors = await api.get(
        "/api/advisors", params={"branchOffice": branch, **page}, headers=supervisor.headers
    )
    assert [a["desk"] for a in advisors.json()] == [2]
    assert advisors.headers["X-Total-Count"] == "3"
    line = (
        await api.get(f"{at(branch)}/queues/CAJA/stats", params=page, headers=supervisor.headers)
    ).json()["line"]
    assert [p["number"] for p in line] == [tickets[1]["number"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Ana\x07 Pérez"}, "name"),
        ({"name": "Ana \u202eZEREP"}, "name"),
        ({"name": "Ana\u200bPérez"}, "name"),
        ({"branchOffice": "Centro\x1b"}, "branchOffice"),
    ],
)
async def test_advisor_text_with_control_characters_is_422_naming_the_field(
    api: httpx.AsyncClient, supervisor: Staff, change: dict[str, str], field: str
) -> None:
    tag = uuid.uuid4().hex[:10]
    body = {
        "name": "Ana Pérez",
        "email": f"ana.{tag}@bank.test",
        "desk": 4,
        "queues": ["CAJA"],
        "branchOffice": branch_name(),  # staff creating an advisor may name a new branch
        **change,
    }
    resp = await api.post("/api/advisors", json=body, headers=supervisor.headers)
    assert resp.status_code == 422, resp.text
    assert fields(resp) == {field}


async def test_renaming_an_advisor_and_a_transfer_reason_are_validated_too(
    api: httpx.AsyncClient, db: AsyncEngine, supervisor: Staff
) -> None:
    branch = await add_branch(api, "Renombre")
    advisor = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    ticket = (await api.post("/api/tickets", json=ticket_body(branch))).json()

    rename = await api.patch(
        f"/api/advisors/{advisor.advisor_id}",
        json={"name": "Ana\r\x1b[2J"},
        headers=supervisor.headers,
    )
    transfer = await api.post(
        f"/api/tickets/{ticket['reference']}/transfer",
        json={"queue": "EMPRESAS", "reason": "ver \u202egerente"},
        headers=supervisor.headers,
    )

    assert rename.status_code == 422 and fields(rename) == {"name"}
    assert transfer.status_code == 422 and fields(transfer) == {"reason"}
