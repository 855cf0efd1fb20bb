"""The error answers in the OpenAPI document: every status a route can return, with
`ErrorBody` (api/schemas/errors.py) as its body and `Retry-After` where it is sent.

Routes declare the statuses that come from what they do (`errors(404, 409)`); the
document adds those that come from how they are reached (`document_errors`):

- every operation: 500 (unexpected) and 503 (maintenance, database or Temporal away);
- with a bearer token (`security`): 401 and 403;
- with parameters or a body: 422, replacing FastAPI's `HTTPValidationError`;
- with a body: 400 (malformed JSON) and 413 (`MAX_BODY_BYTES`);
- with path parameters: 404 (no such resource).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from api.schemas.errors import ErrorBody

SCHEMA_NAME = "ErrorBody"
REF = {"$ref": f"#/components/schemas/{SCHEMA_NAME}"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before retrying",
        "schema": {"type": "integer", "minimum": 0},
    }
}
DESCRIPTIONS = {
    400: "Malformed JSON body",
    401: "Missing, invalid or revoked bearer token",
    403: "The caller's role or branch does not allow it",
    404: "No such resource",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Invalid request: one entry per offending field in `errors`",
    429: "Too many requests; see Retry-After",
    500: "Unexpected error (logged; no details are given)",
    503: "Maintenance, or a dependency away (`dependency`: db, temporal, rabbit); see Retry-After",
}


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One documented error answer (for FastAPI's `responses=`)."""
    answer: dict[str, Any] = {
        "model": ErrorBody,
        "description": description or DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
    }
    if status in (429, 503):
        answer["headers"] = RETRY_AFTER
    return answer


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these statuses answer an `ErrorBody`."""
    return {status: error_response(status) for status in statuses}


def _document(status: int, answer: dict[str, Any] | None) -> dict[str, Any]:
    """Fill in an operation's answer for `status`: keep what the route said, add the
    error body (replacing FastAPI's validation error) and Retry-After."""
    answer = dict(answer or {})
    if answer.get("description") in (None, "", "Validation Error"):
        answer["description"] = DESCRIPTIONS.get(status, HTTPStatus(status).phrase)
    content = answer.get("content") or {}
    schema = content.get("application/json", {}).get("schema")
    if schema is None or "HTTPValidationError" in str(schema):
        answer["content"] = {**content, "application/json": {"schema": REF}}
    if status in (429, 503):
        answer["headers"] = {**RETRY_AFTER, **answer.get("headers", {})}
    return answer


def _statuses(operation: dict[str, Any]) -> set[int]:
    params = operation.get("parameters", [])
    found = {500, 503}
    if operation.get("security"):
        found |= {401, 403}
    if params or "requestBody" in operation:
        found.add(422)
    if "requestBody" in operation:
        found |= {400, 413}
    if any(p.get("in") == "path" for p in params):
        found.add(404)
    return found


def add_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every operation's error answers stated (in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in sorted(declared | _statuses(operation)):
                responses[str(status)] = _document(status, responses.get(str(status)))
    if SCHEMA_NAME not in schemas:
        schemas.update(_error_schemas())
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in str({k: v for k, v in document.items() if k != "components"}):
            schemas.pop(unused, None)
    return document


def _error_schemas() -> dict[str, Any]:
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    nested = schema.pop("$defs", {})
    return {SCHEMA_NAME: schema, **nested}


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` state the error answers. FastAPI builds (and caches) the
    document as usual, again when routes are added; each new build is completed once."""
    build = app.openapi
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = build()
        if not any(document is done for done in completed):
            add_error_responses(document)
            completed[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
