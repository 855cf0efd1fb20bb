"""Limits: body size, ticket creation rate per address and per kiosk, trusted proxies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request

from tests.security.conftest import ADDRESS_LIMIT
from tests.support.branches import add_branch, bootstrap_headers
from tests.support.data import ticket_body

pytestmark = pytest.mark.e2e

TEN_MB = 10 * 1024 * 1024


def assert_error_shape(resp: httpx.Response, status: int, path: str) -> None:
    body = resp.json()
    assert body["status"] == status
    assert body["path"] == path
    assert body["error"] and body["message"] and body["timestamp"]


async def test_a_10_mb_body_is_413_before_anything_reads_it(api: httpx.AsyncClient) -> None:
    padding = "x" * TEN_MB
    resp = await api.post("/api/tickets", json={**ticket_body("Test"), "padding": padding})

    assert resp.status_code == 413, resp.text[:300]
    assert_error_shape(resp, 413, "/api/tickets")
    assert "65536" in resp.json()["message"]


async def test_a_streamed_body_without_length_is_cut_at_the_limit(api: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"nationalId":"12345678","branchOffice":"Test","queue":"CAJA","x":"'
        for _ in range(160):  # 10 MB in 64 KB chunks, no Content-Length (chunked)
            yield b"x" * 65536
        yield b'"}'

    resp = await api.post(
        "/api/tickets", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert resp.status_code == 413, resp.text[:300]
    assert_error_shape(resp, 413, "/api/tickets")


async def test_staff_routes_are_limited_too(api: httpx.AsyncClient) -> None:
    headers = await bootstrap_headers(api)
    resp = await api.post(
        "/api/branches", json={"name": "x" * TEN_MB, "timeZone": "UTC"}, headers=headers
    )
    assert resp.status_code == 413


async def test_an_address_past_its_creation_rate_gets_429_with_retry_after(
    api: httpx.AsyncClient, limited_api: httpx.AsyncClient
) -> None:
    branch = "Test"  # seeded; any registered branch would do
    answers = [
        await limited_api.post("/api/tickets", json=ticket_body(branch))
        for _ in range(ADDRESS_LIMIT + 2)
    ]

    codes = [r.status_code for r in answers]
    # Earlier tests of this module may have used part of this address's window already.
    assert codes[-1] == 429 and codes[-2] == 429, codes
    assert set(codes) <= {201, 429}
    refused = answers[-1]
    assert_error_shape(refused, 429, "/api/tickets")
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60


async def test_a_kiosk_token_has_its_own_larger_limit(
    api: httpx.AsyncClient, limited_api: httpx.AsyncClient
) -> None:
    branch = await add_branch(api, "Kiosco")
    issued = await api.post(
        f"/api/branches/{branch}/kiosks",
        json={"label": "entrada"},
        headers=await bootstrap_headers(api),
    )
    assert issued.status_code == 201, issued.text
    kiosk = {"X-Kiosk-Token": issued.json()["token"]}
    # Use up the address's own window first: the kiosk must not be counted against it.
    for _ in range(ADDRESS_LIMIT):
        await limited_api.post("/api/tickets", json=ticket_body(branch))
    assert (await limited_api.post("/api/tickets", json=ticket_body(branch))).status_code == 429

    codes = [
        (
            await limited_api.post("/api/tickets", json=ticket_body(branch), headers=kiosk)
        ).status_code
        for _ in range(3 * ADDRESS_LIMIT)
    ]

    assert codes == [201] * (3 * ADDRESS_LIMIT)


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(
    api: httpx.AsyncClient, limited_api: httpx.AsyncClient
) -> None:
    """127.0.0.1 is not among TRUSTED_PROXIES: a client cannot pose as many addresses."""
    branch = "Test"
    codes = [
        (
            await limited_api.post(
                "/api/tickets",
                json=ticket_body(branch),
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
        ).status_code
        for i in range(ADDRESS_LIMIT + 2)
    ]

    assert codes[-1] == 429 and codes[-2] == 429, codes


async def test_x_forwarded_for_is_honoured_from_a_trusted_proxy() -> None:
    """The same middleware stack, in process, with the peer among TRUSTED_PROXIES."""
    from api.limits import client_address, install_limits
    from settings import Settings

    app = FastAPI()

    @app.get("/who")
    async def who(request: Request) -> dict[str, str]:
        return {"address": client_address(request)}

    install_limits(app, Settings(trusted_proxies="10.0.0.0/8"))

    async def ask(peer: str, forwarded: str) -> str:
        transport = httpx.ASGITransport(app=app, client=(peer, 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            resp = await client.get("/who", headers={"X-Forwarded-For": forwarded})
        return str(resp.json()["address"])

    assert await ask("10.1.2.3", "198.51.100.7") == "198.51.100.7"
    # A chain: the first address not a trusted proxy, from the right.
    assert await ask("10.1.2.3", "6.6.6.6, 198.51.100.7, 10.4.4.4") == "198.51.100.7"
    assert await ask("203.0.113.9", "198.51.100.7") == "203.0.113.9"
