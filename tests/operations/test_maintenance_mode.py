"""The maintenance switch: 503 for API writes, retryable refusal for ticket activities."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError

from activities import maintenance_mode
from api.main import create_app
from api.maintenance import MaintenanceMiddleware
from api.resources import Resources, TemporalHolder
from db import ops as ops_db
from settings import Settings
from tests.support.wait import eventually


def tiny_app(engine: AsyncEngine) -> FastAPI:
    app = FastAPI()

    @app.post("/api/tickets")
    async def create() -> dict[str, str]:
        return {"created": "yes"}

    @app.get("/api/tickets")
    async def read() -> dict[str, str]:
        return {"read": "yes"}

    @app.post("/api/auth/token")
    async def login() -> dict[str, str]:
        return {"token": "t"}

    @app.post("/hooks/outside-api")
    async def outside() -> dict[str, str]:
        return {"ok": "yes"}

    app.add_middleware(MaintenanceMiddleware, engine=engine, cache_seconds=0.0)
    return app


@pytest.fixture
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=tiny_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await ops_db.set_maintenance(engine, False)


async def test_writes_answer_503_while_in_maintenance(
    http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    assert (await http.post("/api/tickets")).status_code == 200

    await ops_db.set_maintenance(engine, True, "restaurando respaldo")
    refused = await http.post("/api/tickets", json={"queue": "CAJA"})
    assert refused.status_code == 503
    assert refused.headers["retry-after"].isdigit()
    body = refused.json()
    assert body["status"] == 503
    assert body["message"] == "Ticketero está en mantenimiento: restaurando respaldo"
    assert body["path"] == "/api/tickets"
    assert (await http.get("/api/tickets")).status_code == 200
    assert (await http.post("/api/auth/token")).status_code == 200
    assert (await http.post("/hooks/outside-api")).status_code == 200

    await ops_db.set_maintenance(engine, False)
    assert (await http.post("/api/tickets")).status_code == 200


async def test_flag_is_cached_for_at_most_a_second(engine: AsyncEngine) -> None:
    app = FastAPI()

    @app.post("/api/x")
    async def write() -> dict[str, str]:
        return {}

    app.add_middleware(MaintenanceMiddleware, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.post("/api/x")).status_code == 200
        await ops_db.set_maintenance(engine, True, "test")
        try:

            async def refused() -> bool:
                return (await client.post("/api/x")).status_code == 503

            await eventually(refused, timeout=3, what="503 within the cache lifetime")
        finally:
            await ops_db.set_maintenance(engine, False)


async def test_ensure_writable_refuses_retryably_in_maintenance(engine: AsyncEngine) -> None:
    maintenance_mode._cache.clear()
    await maintenance_mode.ensure_writable(engine)  # not in maintenance: passes
    await ops_db.set_maintenance(engine, True, "restore")
    maintenance_mode._cache.clear()
    try:
        with pytest.raises(ApplicationError) as caught:
            await maintenance_mode.ensure_writable(engine)
        assert caught.value.type == maintenance_mode.MAINTENANCE_ERROR
        assert caught.value.non_retryable is False
        assert "restore" in str(caught.value)
    finally:
        await ops_db.set_maintenance(engine, False)
        maintenance_mode._cache.clear()
    await maintenance_mode.ensure_writable(engine)


async def test_the_real_api_refuses_ticket_creation_in_maintenance(
    engine: AsyncEngine, ops_settings: Settings
) -> None:
    """api.main wires the middleware; it finds the engine in app.state.resources."""
    app = create_app(ops_settings)
    app.state.resources = Resources(
        settings=ops_settings, engine=engine, temporal=TemporalHolder(ops_settings)
    )
    await ops_db.set_maintenance(engine, True, "restaurando respaldo")
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            body = {"nationalId": "99999999", "branchOffice": "Test", "queue": "CAJA"}
            refused = await client.post("/api/tickets", json=body)
    finally:
        await ops_db.set_maintenance(engine, False)
    assert refused.status_code == 503
    assert refused.json()["message"].startswith("Ticketero está en mantenimiento")
