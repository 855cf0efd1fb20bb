"""JSON error bodies for every client mistake: status, message and the offending field.

Messages come from one catalogue (api.error_messages), keyed by a stable code, and
are rendered in the caller's language (Accept-Language: es by default, en if asked).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.error_messages import is_key, negotiate, render
from api.resources import TemporalUnavailable
from settings import get_settings

log_name = "ticketero.api"


#: The keys every error body has; an `ApiError`'s `extra` cannot replace them.
STANDARD_KEYS = frozenset({"status", "error", "message", "path", "timestamp", "errors"})


class ApiError(Exception):
    """Raised by services; rendered as a JSON error with the given status.

    `message` is a key of the catalogue (api.error_messages), `params` fill its
    placeholders; `.message` is the Spanish text (logs, tests).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        params: dict[str, Any] | None = None,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.key = message if is_key(message) else None
        self.params = params or {}
        super().__init__(render(message, "es", self.params))
        self.status = status
        self.message = str(self)
        self.field = field
        self.extra = extra or {}
        self.headers = headers


def language(request: Request) -> str:
    """The language of the caller's error messages (Accept-Language; es by default)."""
    return negotiate(request.headers.get("accept-language"))


def say(request: Request, key: str, **params: Any) -> str:
    return render(key, language(request), params)


def scope_message(scope: Scope, key: str, **params: Any) -> str:
    """`say` for ASGI middleware, which has the scope and no Request."""
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    return render(key, negotiate(accept), params)


def error_body(
    status: int, message: str, path: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
        "path": path,
        "timestamp": datetime.now(UTC).isoformat(),
    }
    if errors:
        body["errors"] = errors
    return body


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) if parts else str(loc[-1]) if loc else "body"


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in issues):
        return JSONResponse(
            error_body(
                400,
                say(request, "request.malformed_json"),
                request.url.path,
                [{"field": "body", "message": say(request, "request.body_not_json")}],
            ),
            status_code=400,
        )
    errors = []
    for e in issues:
        msg = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
        field = _field_name(tuple(e.get("loc", ())))
        if e.get("type") == "missing":
            msg = say(request, "validation.required")
        errors.append({"field": field, "message": msg})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    message = say(request, "validation.invalid", summary=summary)
    return JSONResponse(error_body(422, message, request.url.path, errors), status_code=422)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    message = render(exc.key, language(request), exc.params) if exc.key else exc.message
    errors = [{"field": exc.field, "message": message}] if exc.field else None
    body = error_body(exc.status, message, request.url.path, errors)
    # Extra keys add to the standard shape, never replace it ("status" stays the HTTP status).
    body.update({key: value for key, value in exc.extra.items() if key not in STANDARD_KEYS})
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    message = exc.detail if isinstance(exc.detail, str) else phrase
    if message == phrase and is_key(f"http.{exc.status_code}"):
        message = say(request, f"http.{exc.status_code}")
    return JSONResponse(
        error_body(exc.status_code, message, request.url.path),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def unavailable(request: Request, dependency: str, key: str, retry_after: int) -> JSONResponse:
    """503 naming the missing dependency as the health does (`db`, `rabbit`, `temporal`),
    never its address or credentials; the client retries after `Retry-After` seconds."""
    body = error_body(503, say(request, key), request.url.path)
    body["dependency"] = dependency
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(retry_after)})


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL refused, dropped or did not answer in time (db.engine bounds each wait),
    or the pool had no connection to give within its checkout timeout."""
    logging.getLogger(log_name).warning("database unavailable: %s", type(exc).__name__)
    return unavailable(request, "db", "db.unavailable", 2)


#: Temporal's answers that mean "not now" rather than "not this".
_TEMPORAL_BUSY = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)


async def _temporal_down(request: Request, exc: Exception) -> JSONResponse:
    """Temporal unreachable or overloaded: 503 with Retry-After; any other refusal is
    unexpected (500)."""
    if isinstance(exc, RPCError) and exc.status not in _TEMPORAL_BUSY:
        return await _unexpected(request, exc)
    logging.getLogger(log_name).warning("temporal unavailable: %s", type(exc).__name__)
    return unavailable(request, "temporal", "temporal.unavailable", 5)


def _sqlstate(exc: DBAPIError) -> str:
    for err in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
        if code:
            return str(code)
    return ""


#: SQLSTATEs of a database that is away or overloaded rather than refusing this request:
#: connection exceptions, too many connections, shutting down or starting up.
_DATABASE_AWAY = ("08", "53", "57P01", "57P02", "57P03")


async def _database_refused(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL's "data exception" class (22xxx) means a value it cannot store: a NUL
    byte, a number out of range. That is the client's input, so 422, not 500. A
    connection lost mid-statement, or a server going away, is a 503."""
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated or _sqlstate(exc).startswith(_DATABASE_AWAY):
        return await _database_down(request, exc)
    if _sqlstate(exc).startswith("22"):
        return JSONResponse(
            error_body(422, say(request, "validation.value_refused"), request.url.path),
            status_code=422,
        )
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A 500 that tells nothing. Starlette renders it outside every middleware, so the
    security headers are added here (the headers middleware never sees this response)."""
    from api.security_headers import CONTENT_SECURITY_POLICY, security_headers

    logging.getLogger(log_name).exception("unhandled error on %s", request.url.path)
    resources = getattr(request.app.state, "resources", None)
    settings = resources.settings if resources is not None else get_settings()
    headers = {**security_headers(settings), "Content-Security-Policy": CONTENT_SECURITY_POLICY}
    return JSONResponse(
        error_body(500, say(request, "http.500"), request.url.path),
        status_code=500,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as `error_body`, and say so in the OpenAPI document."""
    from api.error_docs import document_errors

    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_refused)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
    app.add_exception_handler(PoolTimeout, _database_down)
    app.add_exception_handler(TemporalUnavailable, _temporal_down)
    app.add_exception_handler(RPCError, _temporal_down)
    # An update whose RPC timed out (e.g. a worker killed while it ran): Temporal is busy.
    app.add_exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError, _temporal_down)
    app.add_exception_handler(Exception, _unexpected)
    document_errors(app)
