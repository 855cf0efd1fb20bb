"""The OpenAPI document states the error shape for every status of every route, and
the API answers that shape for errors that come from outside the routes too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.error_docs import add_error_responses
from api.main import create_app
from api.resources import TemporalUnavailable
from api.schemas.errors import ErrorBody

ERROR_REF = "#/components/schemas/ErrorBody"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
async def document(api: httpx.AsyncClient) -> dict[str, Any]:
    resp = await api.get("/openapi.json")
    assert resp.status_code == 200
    found: dict[str, Any] = resp.json()
    return found


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _error_schema(answer: dict[str, Any]) -> str:
    return str(answer["content"]["application/json"]["schema"])


def test_every_error_status_of_every_route_is_an_error_body(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert len(operations) >= 40
    for method, path, operation in operations:
        where = f"{method} {path}"
        responses = operation["responses"]
        statuses = {int(code) for code in responses}
        assert {500, 503} <= statuses, where
        if operation.get("parameters") or "requestBody" in operation:
            assert 422 in statuses, where
        if "requestBody" in operation:
            assert {400, 413} <= statuses, where
        if operation.get("security"):
            assert {401, 403} <= statuses, where
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            assert 404 in statuses, where
        for status in statuses:
            if status >= 400:
                assert ERROR_REF in _error_schema(responses[str(status)]), (where, status)
            if status in (429, 503):
                assert "Retry-After" in responses[str(status)]["headers"], (where, status)


def test_routes_state_the_errors_their_work_can_give(document: dict[str, Any]) -> None:
    def statuses(method: str, path: str) -> set[int]:
        return {int(code) for code in document["paths"][path][method]["responses"]}

    assert {401, 403, 404, 409, 429} <= statuses("post", "/api/tickets")
    assert {401, 429} <= statuses("post", "/api/auth/token")
    assert {403, 409} <= statuses("post", "/api/tickets/{reference}/cancel")
    assert {409} <= statuses("post", "/api/advisors/me/call-next")
    assert {429} <= statuses("get", "/api/branches/{branch}/display/events")
    assert {404, 409} <= statuses("post", "/api/advisors")


def test_fastapis_validation_error_is_gone(document: dict[str, Any]) -> None:
    text = str(document)
    assert "HTTPValidationError" not in text
    body = document["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"status", "error", "message", "path", "timestamp"}
    assert body["properties"]["errors"]["type"] == "array"


def test_national_id_is_documented_as_a_string(document: dict[str, Any]) -> None:
    national_id = document["components"]["schemas"]["CreateTicketRequest"]["properties"][
        "nationalId"
    ]
    assert national_id["type"] == "string"
    assert "$ref" not in national_id and "NationalId" not in document["components"]["schemas"]


def test_completing_the_document_twice_changes_nothing(document: dict[str, Any]) -> None:
    import copy

    again = add_error_responses(copy.deepcopy(document))
    assert again == document


def _assert_error(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    ErrorBody.model_validate(body)
    assert body["status"] == status
    return body


async def test_unknown_routes_and_methods_answer_the_shape(api: httpx.AsyncClient) -> None:
    _assert_error(await api.get("/api/nothing-here"), 404)
    resp = await api.delete("/api/tickets")
    _assert_error(resp, 405)
    assert "POST" in resp.headers["allow"]
    body = _assert_error(
        await api.post(
            "/api/tickets", content=b"{not json", headers={"content-type": "application/json"}
        ),
        400,
    )
    assert body["errors"] == [{"field": "body", "message": "el cuerpo no es JSON válido"}]
    _assert_error(await api.post("/api/tickets", content=b"x" * 70_000), 413)


async def test_sse_errors_follow_the_document(
    api: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    """The streams are left out of the fuzz (a 200 never ends); their errors are not."""
    staff = document["paths"]["/api/branches/{branch}/events"]["get"]["responses"]
    public = document["paths"]["/api/branches/{branch}/display/events"]["get"]["responses"]
    assert "401" in staff and "404" in public and "422" in public
    _assert_error(await api.get("/api/branches/Test/events"), 401)
    _assert_error(await api.get("/api/branches/%01bad/display/events"), 422)


def _app_raising(error: Exception) -> FastAPI:
    app = create_app()

    async def boom() -> None:
        raise error

    app.add_api_route("/api/boom", boom)
    return app


async def _call(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/api/boom")


async def test_an_unexpected_exception_is_a_500_that_tells_nothing() -> None:
    resp = await _call(_app_raising(RuntimeError("password=hunter2 at db.internal:5432")))
    body = _assert_error(resp, 500)
    assert "hunter2" not in resp.text and "RuntimeError" not in resp.text
    assert body["message"] == "Error interno; quedó registrado"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "error",
    [
        TemporalUnavailable("TimeoutError"),
        RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""),
        WorkflowUpdateRPCTimeoutOrCancelledError(),
    ],
)
async def test_temporal_away_is_a_503_with_retry_after(error: Exception) -> None:
    resp = await _call(_app_raising(error))
    _assert_error(resp, 503)
    assert int(resp.headers["retry-after"]) > 0
