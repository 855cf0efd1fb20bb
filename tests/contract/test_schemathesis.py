"""Schemathesis fuzzes the running test stack's API against its own OpenAPI document.

Three callers: nobody, an advisor, and a supervisor limited to a branch of their own
(so fuzzed edits cannot touch the branches other tests use). Every answer must be no
5xx, have a documented status, the documented content type, and a body that matches
the documented schema (for errors: `ErrorBody`).

Left out of the fuzz, and why:
- `POST /api/operations/...`: they start backups, restores, maintenance, deployments.
- `POST /api/auth/token`: the per-address login throttle would lock the session's
  address (tests/security covers it from addresses of its own).
- the two SSE streams (`text/event-stream`): a 200 never ends; their error answers are
  checked against the document in `test_sse_errors_follow_the_document`.
- the Telegram webhook is not in the document at all.

Bounded: `MAX_EXAMPLES` cases per operation and caller, no shrinking, a per-request
timeout, fixed seed (derandomized), so the three runs take a couple of minutes.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.tickets import ensure_branch
from tests.support.stack import Stack
from tests.support.staff import add_advisor, add_user

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 20
REQUEST_TIMEOUT = 10.0
SSE_PATH = re.compile(r"/events$")


def _excluded(method: str, path: str) -> bool:
    if SSE_PATH.search(path) or path == "/api/auth/token":
        return True
    return method.upper() == "POST" and path.startswith("/api/operations/")


def fuzz(
    document: dict[str, Any], base_url: str, headers: dict[str, str]
) -> tuple[list[str], int, int]:
    """Run every operation up to `MAX_EXAMPLES` times: the failures, one entry each, and
    how many operations and requests ran."""
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    operations = calls = 0
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        if _excluded(operation.method, operation.path):
            continue
        operations += 1
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(
                base_url=base_url,
                session=session,
                headers=headers,
                checks=CHECKS,
                timeout=REQUEST_TIMEOUT,
            )

        try:
            run()
        except (Exception, BaseExceptionGroup) as err:
            failures.append(f"{operation.method.upper()} {operation.path}: {err}")
    return failures, operations, calls


async def _document(api: httpx.AsyncClient) -> dict[str, Any]:
    resp = await api.get("/openapi.json")
    assert resp.status_code == 200
    document: dict[str, Any] = resp.json()
    return document


async def _fuzz(stack: Stack, api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    document = await _document(api)
    started = time.monotonic()
    # In a thread: the session's event loop keeps supervising the stack meanwhile.
    failures, operations, calls = await asyncio.to_thread(fuzz, document, stack.api_url, headers)
    took = time.monotonic() - started
    print(f"schemathesis: {operations} operations, {calls} requests, {took:.1f}s")
    assert operations >= 30 and calls >= operations * 3
    assert not failures, "\n\n".join(failures)


@pytest.fixture(scope="module")
async def fuzz_branch(db: AsyncEngine) -> str:
    name = f"Fuzz {uuid.uuid4().hex[:8]}"
    async with db.begin() as conn:
        row = await ensure_branch(conn, name, "America/Santiago")
        await conn.execute(
            text("UPDATE branch SET open_all_hours = true WHERE id = :b"), {"b": row.id}
        )
    return name


async def test_unauthenticated(stack: Stack, api: httpx.AsyncClient) -> None:
    await _fuzz(stack, api, {})


async def test_as_an_advisor(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, fuzz_branch: str
) -> None:
    advisor = await add_advisor(db, api, fuzz_branch, 1, ["CAJA", "PERSONAL"])
    await _fuzz(stack, api, advisor.headers)


async def test_as_a_supervisor(
    stack: Stack, api: httpx.AsyncClient, db: AsyncEngine, fuzz_branch: str
) -> None:
    supervisor = await add_user(db, api, "supervisor")
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO app_user_branch (user_id, branch_id)"
                " SELECT u.id, b.id FROM app_user u, branch b"
                " WHERE u.username = :u AND b.name = :b"
            ),
            {"u": supervisor.username, "b": fuzz_branch},
        )
    await _fuzz(stack, api, supervisor.headers)
