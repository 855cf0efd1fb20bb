"""Fault injection and outages: the failures Ticketero's retries must survive."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest


async def plan(http, **fault):
    response = await http.post("/sandbox/faults", json=fault)
    assert response.status_code == 200, response.text
    return response.json()


async def messages(http, chat_id):
    response = await http.get(f"/sandbox/chats/{chat_id}/messages")
    return response.json() if response.status_code == 200 else []


async def test_429_carries_retry_after_and_records_nothing(http, bot):
    await plan(http, method="sendMessage", kind="429", count=2, retry_after=7)
    for _ in range(2):
        response = await bot("sendMessage", chat_id=41, text="hola")
        assert response.status_code == 429
        assert response.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
    assert await messages(http, 41) == []
    ok = await bot("sendMessage", chat_id=41, text="hola")
    assert ok.status_code == 200
    assert ok.json()["result"]["message_id"] == 1
    assert [m["text"] for m in await messages(http, 41)] == ["hola"]
    calls = (await http.get("/sandbox/calls")).json()
    assert calls["sendMessage"] == {"total": 3, "429": 2, "ok": 1}


async def test_429_default_retry_after_is_one_second(http, bot):
    await plan(http, method="sendMessage", kind=429)
    response = await bot("sendMessage", chat_id=42, text="hola")
    assert response.json()["parameters"] == {"retry_after": 1}


@pytest.mark.parametrize(
    ("kind", "status", "description"),
    [
        ("500", 500, "Internal Server Error"),
        ("403", 403, "Forbidden: bot was blocked by the user"),
    ],
)
async def test_error_faults(http, bot, kind, status, description):
    await plan(http, method="sendMessage", kind=kind)
    response = await bot("sendMessage", chat_id=43, text="hola")
    assert response.status_code == status
    assert response.json() == {"ok": False, "error_code": status, "description": description}
    assert await messages(http, 43) == []
    assert (await bot("sendMessage", chat_id=43, text="hola")).status_code == 200
    assert (await http.get("/sandbox/calls")).json()["sendMessage"][kind] == 1


async def test_timeout_hangs_then_504_without_recording(http, bot):
    await plan(http, method="sendMessage", kind="timeout", delay_seconds=0.3)
    started = time.monotonic()
    response = await bot("sendMessage", chat_id=44, text="hola")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 504
    assert response.json()["ok"] is False
    assert await messages(http, 44) == []
    assert (await http.get("/sandbox/calls")).json()["sendMessage"]["timeout"] == 1


async def test_timeout_fault_trips_a_client_timeout(http, sandbox_url, token):
    await plan(http, method="sendMessage", kind="timeout", delay_seconds=0.5)
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=0.1) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post(f"/bot{token}/sendMessage", json={"chat_id": 45, "text": "x"})
    assert await messages(http, 45) == []


async def test_faults_are_consumed_in_order_and_per_method(http, bot):
    await plan(http, method="sendMessage", kind="500")
    await plan(http, method="getMe", kind="403")
    listed = await plan(http, method="sendmessage", kind="429", retry_after=2)
    assert [(f["method"], f["kind"]) for f in listed["pending"]] == [
        ("sendMessage", "500"),
        ("getMe", "403"),
        ("sendMessage", "429"),
    ]
    statuses = [(await bot("sendMessage", chat_id=46, text="x")).status_code for _ in range(3)]
    assert statuses == [500, 429, 200]
    pending = (await http.get("/sandbox/faults")).json()["pending"]
    assert [(f["method"], f["kind"], f["count"]) for f in pending] == [("getMe", "403", 1)]
    assert (await http.delete("/sandbox/faults")).json() == {"pending": []}
    assert (await bot("getMe")).status_code == 200


@pytest.mark.parametrize(
    "fault",
    [
        {"method": "sendPhoto", "kind": "500"},
        {"method": "sendMessage", "kind": "418"},
        {"method": "sendMessage", "kind": "500", "count": 0},
    ],
)
async def test_invalid_fault_is_400(http, fault):
    assert (await http.post("/sandbox/faults", json=fault)).status_code == 400
    assert (await http.get("/sandbox/faults")).json() == {"pending": []}


async def test_outage_makes_every_call_502_until_deleted(http, bot):
    status = (await http.post("/sandbox/outage", json={"seconds": 30})).json()
    assert status["active"] is True
    for method in ("getMe", "sendMessage", "getUpdates"):
        response = await bot(method, chat_id=47, text="x")
        assert response.status_code == 502
        assert response.json() == {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    assert (await http.get("/botwrong/getMe")).status_code == 502
    assert (await http.get("/healthz")).status_code == 200, "sandbox API stays up"
    assert await messages(http, 47) == []
    assert (await http.get("/sandbox/calls")).json()["sendMessage"] == {"total": 1, "502": 1}

    assert (await http.delete("/sandbox/outage")).json()["active"] is False
    assert (await bot("getMe")).status_code == 200


async def test_outage_ends_by_itself(http, bot, wait):
    await http.post("/sandbox/outage", json={"seconds": 0.3})
    assert (await bot("getMe")).status_code == 502

    async def back_up():
        return (await bot("getMe")).status_code == 200

    await wait(back_up)
    assert (await http.get("/sandbox/outage")).json() == {"active": False, "remaining_seconds": 0}


async def test_calls_count_every_outcome(http, bot):
    await bot("getMe")
    await http.get("/botnope/getMe")
    await bot("sendMessage", chat_id=48, text="<b>", parse_mode="HTML")
    calls = (await http.get("/sandbox/calls")).json()
    assert calls["getMe"] == {"total": 2, "ok": 1, "401": 1}
    assert calls["sendMessage"] == {"total": 1, "400": 1}
    await http.post("/sandbox/reset")
    assert (await http.get("/sandbox/calls")).json() == {}


async def test_reset_clears_faults_outage_and_chats(http, bot):
    await plan(http, method="getMe", kind="500")
    await http.post("/sandbox/outage", json={"seconds": 30})
    await http.post("/sandbox/chats/49/send", json={"text": "hola"})
    assert (await http.post("/sandbox/reset")).json() == {"status": "reset"}
    assert (await bot("getMe")).status_code == 200
    assert (await http.get("/sandbox/chats")).json() == []
    assert (await bot("getUpdates")).json()["result"] == []


async def test_concurrent_callers_each_consume_one_fault(http, bot):
    await plan(http, method="sendMessage", kind="500", count=2)
    responses = await asyncio.gather(
        *(bot("sendMessage", chat_id=50, text=str(i)) for i in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 500, 500]
    assert len(await messages(http, 50)) == 2
