"""Staff access is re-checked on every request and limited to the caller's branches.

Advisors act on their own branch's tickets; a supervisor linked to branches sees
only those (one linked to none sees every branch); operators see everything.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.data import branch_name, ticket_body
from tests.support.staff import Staff, add_advisor, add_user
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e

OTHER_BRANCH = "fuera de"  # es by default: "fuera de sus sucursales" / "fuera de las suyas"


def at(branch: str) -> str:
    return "/api/branches/" + quote(branch, safe="")


async def take_ticket(api: httpx.AsyncClient, branch: str) -> dict[str, Any]:
    resp = await api.post("/api/tickets", json=ticket_body(branch, "CAJA"))
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def supervisor_of(db: AsyncEngine, api: httpx.AsyncClient, *branches: str) -> Staff:
    """A supervisor linked to `branches` (existing ones) in `app_user_branch`."""
    staff = await add_user(db, api, "supervisor")
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO app_user_branch (user_id, branch_id)"
                " SELECT u.id, b.id FROM app_user u, branch b"
                " WHERE u.username = :u AND b.name = ANY(:names)"
            ),
            {"u": staff.username, "names": list(branches)},
        )
    return staff


def assert_forbidden(resp: httpx.Response) -> None:
    assert resp.status_code == 403, resp.text
    body = resp.json()
    assert body["status"] == 403 and body["error"] == "Forbidden"
    assert OTHER_BRANCH in body["message"]


async def test_a_deactivated_advisors_token_no_longer_transfers_or_reads_history(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = branch_name("Baja")
    advisor = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    supervisor = await add_user(db, api, "supervisor")
    ticket = await take_ticket(api, branch)
    history = f"/api/tickets/{ticket['reference']}/history"
    assert (await api.get(history, headers=advisor.headers)).status_code == 200

    resp = await api.patch(
        f"/api/advisors/{advisor.advisor_id}", json={"active": False}, headers=supervisor.headers
    )
    assert resp.status_code == 200, resp.text

    transfer = await api.post(
        f"/api/tickets/{ticket['reference']}/transfer",
        json={"queue": "PERSONAL_BANKER"},
        headers=advisor.headers,
    )
    assert transfer.status_code == 401, transfer.text
    assert transfer.headers["www-authenticate"] == "Bearer"
    assert transfer.json()["status"] == 401
    read = await api.get(history, headers=advisor.headers)
    assert read.status_code == 401, read.text
    assert (await api.get("/api/advisors/me", headers=advisor.headers)).status_code == 401
    still = (await api.get(f"/api/tickets/{ticket['reference']}")).json()
    assert still["queue"] == "CAJA"


async def test_a_deactivated_supervisors_token_is_refused(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    supervisor = await add_user(db, api, "supervisor")
    assert (await api.get("/api/branches", headers=supervisor.headers)).status_code == 200
    async with db.begin() as conn:
        await conn.execute(
            text("UPDATE app_user SET active = false WHERE username = :u"),
            {"u": supervisor.username},
        )
    resp = await api.get("/api/branches", headers=supervisor.headers)
    assert resp.status_code == 401, resp.text


async def test_an_advisor_cannot_act_on_another_branchs_ticket(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    home, away = branch_name("Casa"), branch_name("Ajena")
    advisor = await add_advisor(db, api, home, desk=1, queues=["CAJA"])
    await add_advisor(db, api, away, desk=1, queues=["CAJA"])  # registers the branch
    theirs, ours = await take_ticket(api, away), await take_ticket(api, home)

    ref = theirs["reference"]
    transfer = await api.post(
        f"/api/tickets/{ref}/transfer", json={"queue": "PERSONAL_BANKER"}, headers=advisor.headers
    )
    assert_forbidden(transfer)
    assert_forbidden(await api.get(f"/api/tickets/{ref}/history", headers=advisor.headers))
    for action in ("recall", "start", "complete", "no-show"):
        assert_forbidden(await api.post(f"/api/tickets/{ref}/{action}", headers=advisor.headers))
    after = (await api.get(f"/api/tickets/{ref}")).json()
    assert (after["status"], after["queue"]) == ("WAITING", "CAJA")

    # Their own branch's ticket is theirs to act on.
    own = await api.get(f"/api/tickets/{ours['reference']}/history", headers=advisor.headers)
    assert own.status_code == 200, own.text
    moved = await api.post(
        f"/api/tickets/{ours['reference']}/transfer",
        json={"queue": "PERSONAL_BANKER"},
        headers=advisor.headers,
    )
    assert moved.status_code == 200, moved.text


async def test_a_supervisor_sees_only_their_branches(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    mine, other = branch_name("Propia"), branch_name("Otra")
    await add_advisor(db, api, mine, desk=1, queues=["CAJA"])
    stranger = await add_advisor(db, api, other, desk=1, queues=["CAJA"])
    ticket = await take_ticket(api, other)
    supervisor = await supervisor_of(db, api, mine)
    headers = supervisor.headers

    assert (await api.get(f"{at(mine)}/dashboard", headers=headers)).status_code == 200
    assert_forbidden(await api.get(f"{at(other)}/dashboard", headers=headers))
    for page in ("alerts", "advisors", "queues/CAJA/stats"):
        assert_forbidden(await api.get(f"{at(other)}/{page}", headers=headers))
    assert_forbidden(await api.get(at(other), headers=headers))
    assert_forbidden(await api.put(at(other), json={"opensAt": "08:00"}, headers=headers))
    assert_forbidden(await api.get(f"/api/tickets/{ticket['reference']}/history", headers=headers))
    assert_forbidden(
        await api.post(
            f"/api/tickets/{ticket['reference']}/transfer",
            json={"queue": "PERSONAL_BANKER"},
            headers=headers,
        )
    )
    assert_forbidden(await api.get(f"/api/advisors/{stranger.advisor_id}", headers=headers))
    assert_forbidden(
        await api.patch(
            f"/api/advisors/{stranger.advisor_id}", json={"name": "Nadie"}, headers=headers
        )
    )

    names = {b["name"] for b in (await api.get("/api/branches", headers=headers)).json()}
    assert mine in names and other not in names
    listed = (await api.get("/api/advisors", headers=headers)).json()
    assert listed and {a["branchOffice"] for a in listed} == {mine}

    # A supervisor linked to no branch (like the bootstrap one) still sees every branch.
    everywhere = await add_user(db, api, "supervisor")
    resp = await api.get(f"{at(other)}/dashboard", headers=everywhere.headers)
    assert resp.status_code == 200, resp.text


async def test_a_limited_supervisor_cannot_register_advisors_elsewhere(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    mine, other = branch_name("Propia"), branch_name("Otra")
    await add_advisor(db, api, mine, desk=1, queues=["CAJA"])
    await add_advisor(db, api, other, desk=1, queues=["CAJA"])
    supervisor = await supervisor_of(db, api, mine)

    for branch in (other, branch_name("Nueva")):
        body = {
            "name": "Ana Pérez",
            "email": f"ana.{branch.split()[-1]}@bank.test",
            "desk": 7,
            "queues": ["CAJA"],
            "branchOffice": branch,
        }
        assert_forbidden(await api.post("/api/advisors", json=body, headers=supervisor.headers))


async def test_an_operator_reads_any_branchs_ticket_history(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = branch_name("Operada")
    await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    ticket = await take_ticket(api, branch)
    operator = await add_user(db, api, "operator")
    resp = await api.get(f"/api/tickets/{ticket['reference']}/history", headers=operator.headers)
    assert resp.status_code == 200, resp.text


async def test_the_409_of_a_busy_advisor_keeps_the_http_status_in_its_body(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    branch = branch_name("Ocupada")
    advisor = await add_advisor(db, api, branch, desk=1, queues=["CAJA"])
    resp = await api.put(
        "/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=advisor.headers
    )
    assert resp.status_code == 200, resp.text
    await take_ticket(api, branch)

    async def holds_a_ticket() -> bool:
        # CALLED, not merely reserved: a reservation whose CALL is still being recorded
        # is re-sent by call-next (the stuck-reservation path), not refused.
        me = (await api.get("/api/advisors/me", headers=advisor.headers)).json()
        return me["ticket"] is not None and me["ticket"]["status"] == "CALLED"

    await eventually(holds_a_ticket, timeout=15, what="the advisor to be given the ticket")
    # A break asked now is queued (issue 13); calling another ticket is the conflict.
    busy = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    assert busy.status_code == 409, busy.text
    body = busy.json()
    assert body["status"] == 409
    assert body["error"] == "Conflict"
    assert body["ticketReference"]
