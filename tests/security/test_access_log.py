"""The API's access log goes through the same masks as its JSON logs."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

RUT = "12.345.678-5"
PHONE = "56912345678"


async def access_line(stack: Stack, marker: str) -> list[str]:
    """The API's output lines naming `marker`, once the access line has been written."""
    for _ in range(50):
        lines = [line for line in stack.supervisor.output("api") if marker in line]
        if any(" 404" in line for line in lines):
            return lines
        await asyncio.sleep(0.1)
    pytest.fail(f"no access log line for {marker}")


async def test_query_strings_are_masked_in_the_access_log(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    marker = f"probe-{uuid.uuid4().hex}"
    params = {"rut": RUT, "phone": f"+{PHONE}", "plain": f"{RUT.replace('.', '')}"}
    resp = await api.get(f"/api/{marker}", params=params)
    assert resp.status_code == 404
    assert "%2B" in str(resp.request.url)  # the phone arrives percent-encoded
    lines = await access_line(stack, marker)
    text = "\n".join(lines)
    for secret in (RUT, PHONE, RUT.replace(".", "")):
        assert secret not in text
    records = [json.loads(line.split("] ", 1)[-1]) for line in lines if '{"ts"' in line]
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert len(access) == 1, lines
    record = access[0]
    assert record["service"] == "api"
    assert f"/api/{marker}?rut=" in record["msg"] and "678-5" in record["msg"]
    assert " 404" in record["msg"]
