"""Advisor management: create, read, list, edit, (de)activate, and every refusal."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.supervision.helpers import (
    PASSWORD,
    add_advisor,
    advisor_body,
    at,
    auth,
    field_errors,
    login,
    take_tickets,
)
from tests.support.data import branch_name

pytestmark = pytest.mark.e2e


async def test_create_registers_an_offline_advisor_and_the_branch(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = branch_name("Alta")
    body = advisor_body(branch, 3, ["empresas", "GERENCIA", "EMPRESAS"], name="  Ana   Pérez ")

    resp = await api.post("/api/advisors", json=body, headers=supervisor)

    assert resp.status_code == 201, resp.text
    advisor = resp.json()
    assert resp.headers["location"] == f"/api/advisors/{advisor['id']}"
    assert advisor["name"] == "Ana Pérez"
    assert advisor["email"] == body["email"]
    assert advisor["desk"] == 3
    assert advisor["queues"] == ["EMPRESAS", "GERENCIA"]
    assert advisor["status"] == "OFFLINE"
    assert advisor["active"] is True
    assert advisor["branchOffice"] == branch
    assert advisor["username"] is None
    assert advisor["currentTicketNumber"] is None
    # The unknown branch now exists, with the default queues.
    created = await api.get(at(branch), headers=supervisor)
    assert created.status_code == 200, created.text
    assert [q["queue"] for q in created.json()["queues"]] == [
        "GERENCIA",
        "EMPRESAS",
        "PERSONAL_BANKER",
        "CAJA",
    ]
    again = await api.get(f"/api/advisors/{advisor['id']}", headers=supervisor)
    assert again.status_code == 200 and again.json() == advisor


async def test_create_with_username_and_password_gives_a_working_login(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    username = f"ana-{uuid.uuid4().hex[:8]}"
    body = advisor_body(branch_name(), 1, ["CAJA"], username=username, password=PASSWORD)

    resp = await api.post("/api/advisors", json=body, headers=supervisor)

    assert resp.status_code == 201, resp.text
    assert resp.json()["username"] == username
    me = await api.get("/api/auth/me", headers=auth(await login(api, username)))
    assert me.json()["role"] == "advisor"
    assert me.json()["advisorId"] == resp.json()["id"]


async def test_duplicate_email_is_409_in_any_letter_case(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    first = await add_advisor(api, supervisor, branch_name(), 1, ["CAJA"])
    body = advisor_body(branch_name(), 1, ["CAJA"], email=first["email"].upper())

    resp = await api.post("/api/advisors", json=body, headers=supervisor)

    assert resp.status_code == 409, resp.text
    assert field_errors(resp) == {"email"}


async def test_an_occupied_desk_is_409_only_within_the_branch(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = branch_name()
    await add_advisor(api, supervisor, branch, 7, ["CAJA"])

    taken = await api.post(
        "/api/advisors", json=advisor_body(branch.upper(), 7, ["CAJA"]), headers=supervisor
    )
    elsewhere = await api.post(
        "/api/advisors", json=advisor_body(branch_name(), 7, ["CAJA"]), headers=supervisor
    )

    assert taken.status_code == 409, taken.text
    assert field_errors(taken) == {"desk"}
    assert "módulo 7" in taken.json()["message"]
    assert elsewhere.status_code == 201, elsewhere.text


async def test_a_taken_username_is_409_and_creates_nothing(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    existing = await add_advisor(api, supervisor, branch_name(), 1, ["CAJA"], with_login=True)
    branch = branch_name()
    body = advisor_body(branch, 1, ["CAJA"], username=existing["username"], password=PASSWORD)

    resp = await api.post("/api/advisors", json=body, headers=supervisor)

    assert resp.status_code == 409, resp.text
    assert field_errors(resp) == {"username"}
    listed = await api.get("/api/advisors", params={"branchOffice": branch}, headers=supervisor)
    assert listed.status_code == 404  # not even the branch was registered
    # Nothing half-made blocks a corrected retry.
    retry = await api.post(
        "/api/advisors", json={**body, "username": None, "password": None}, headers=supervisor
    )
    assert retry.status_code == 201, retry.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"queues": []}, "queues"),
        ({"queues": ["CAJA", "VIP"]}, "queues"),
        ({"queues": "CAJA"}, "queues"),
        ({"desk": 0}, "desk"),
        ({"desk": 1000}, "desk"),
        ({"desk": "uno"}, "desk"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"branchOffice": ""}, "branchOffice"),
        ({"username": "ana"}, "password"),
        ({"password": PASSWORD}, "username"),
        ({"username": "ana maria", "password": PASSWORD}, "username"),
        ({"username": "ana", "password": "short"}, "password"),
    ],
)
async def test_invalid_advisor_is_422_naming_the_field(
    api: httpx.AsyncClient, supervisor: dict[str, str], change: dict[str, Any], field: str
) -> None:
    body = {**advisor_body(branch_name(), 1, ["CAJA"]), **change}

    resp = await api.post("/api/advisors", json=body, headers=supervisor)

    assert resp.status_code == 422, resp.text
    assert field in field_errors(resp), resp.text


async def test_missing_fields_are_422(api: httpx.AsyncClient, supervisor: dict[str, str]) -> None:
    resp = await api.post("/api/advisors", json={}, headers=supervisor)
    assert resp.status_code == 422
    assert field_errors(resp) >= {"name", "email", "desk", "queues", "branchOffice"}


async def test_list_by_branch_and_unknown_ids(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = branch_name()
    second = await add_advisor(api, supervisor, branch, 2, ["CAJA"])
    first = await add_advisor(api, supervisor, branch, 1, ["GERENCIA"])

    listed = await api.get(
        "/api/advisors", params={"branchOffice": branch.lower()}, headers=supervisor
    )
    everyone = await api.get("/api/advisors", headers=supervisor)

    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [first["id"], second["id"]]  # by desk
    assert {first["id"], second["id"]} <= {a["id"] for a in everyone.json()}
    unknown_branch = await api.get(
        "/api/advisors", params={"branchOffice": branch_name()}, headers=supervisor
    )
    assert unknown_branch.status_code == 404
    assert (await api.get("/api/advisors/2000000000", headers=supervisor)).status_code == 404
    bad = await api.get("/api/advisors/abc", headers=supervisor)
    assert bad.status_code == 422 and field_errors(bad) == {"advisor_id"}
    huge = await api.get("/api/advisors/99999999999", headers=supervisor)
    assert huge.status_code == 422


async def test_patch_renames_moves_and_reskills(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = branch_name()
    advisor = await add_advisor(api, supervisor, branch, 1, ["CAJA"])
    await add_advisor(api, supervisor, branch, 2, ["CAJA"])
    path = f"/api/advisors/{advisor['id']}"

    resp = await api.patch(
        path,
        json={"name": "Pedro Soto", "desk": 3, "queues": ["personal banker"]},
        headers=supervisor,
    )
    taken = await api.patch(path, json={"desk": 2}, headers=supervisor)
    nulled = await api.patch(path, json={"desk": None}, headers=supervisor)
    extra = await api.patch(path, json={"email": "otro@bank.test"}, headers=supervisor)
    unknown = await api.patch("/api/advisors/2000000000", json={"name": "X"}, headers=supervisor)

    assert resp.status_code == 200, resp.text
    assert (resp.json()["name"], resp.json()["desk"], resp.json()["queues"]) == (
        "Pedro Soto",
        3,
        ["PERSONAL_BANKER"],
    )
    assert taken.status_code == 409 and field_errors(taken) == {"desk"}
    assert nulled.status_code == 422 and field_errors(nulled) == {"desk"}
    assert extra.status_code == 422 and field_errors(extra) == {"email"}
    assert unknown.status_code == 404
    assert (await api.get(path, headers=supervisor)).json()["desk"] == 3


async def test_deactivate_frees_the_desk_and_blocks_the_login(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = branch_name()
    advisor = await add_advisor(api, supervisor, branch, 1, ["CAJA"], with_login=True)
    path = f"/api/advisors/{advisor['id']}"

    off = await api.patch(path, json={"active": False}, headers=supervisor)
    replacement = await add_advisor(api, supervisor, branch, 1, ["CAJA"])
    back = await api.patch(path, json={"active": True}, headers=supervisor)
    failed_login = await api.post(
        "/api/auth/token", data={"username": advisor["username"], "password": PASSWORD}
    )

    assert off.status_code == 200, off.text
    assert off.json()["active"] is False and off.json()["status"] == "OFFLINE"
    assert replacement["desk"] == 1
    assert back.status_code == 409 and field_errors(back) == {"desk"}
    assert failed_login.status_code == 401
    moved_back = await api.patch(path, json={"active": True, "desk": 9}, headers=supervisor)
    assert moved_back.status_code == 200, moved_back.text
    assert (await login(api, advisor["username"])) != ""


async def test_an_advisor_holding_a_ticket_cannot_be_deactivated(
    api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    branch = branch_name()
    advisor = await add_advisor(api, supervisor, branch, 1, ["CAJA"], with_login=True)
    (ticket,) = await take_tickets(api, branch, "CAJA", 1)
    desk = await api.put(
        "/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=auth(advisor["token"])
    )
    assert desk.status_code == 200, desk.text
    assert desk.json()["ticket"]["reference"] == ticket["reference"]

    resp = await api.patch(
        f"/api/advisors/{advisor['id']}", json={"active": False}, headers=supervisor
    )

    assert resp.status_code == 409, resp.text
    assert field_errors(resp) == {"active"}
    shown = (await api.get(f"/api/advisors/{advisor['id']}", headers=supervisor)).json()
    assert shown["active"] is True
    assert shown["currentTicketNumber"] == ticket["number"]
    assert shown["currentTicket"] == ticket["reference"]
