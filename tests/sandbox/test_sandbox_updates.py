"""User → bot updates: getUpdates offsets, long polling, deep-link starts."""

from __future__ import annotations

import asyncio
import time

import pytest


async def say(http, chat_id, text, first_name=None):
    body = {"text": text} if first_name is None else {"text": text, "first_name": first_name}
    response = await http.post(f"/sandbox/chats/{chat_id}/send", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def a_poller_is_waiting(http):
    return (await http.get("/sandbox/updates")).json()["waiting_pollers"] >= 1


async def test_user_message_update_shape(http):
    update = await say(http, 301, "/estado", first_name="Ana")
    message = update["message"]
    assert message["chat"] == {"id": 301, "type": "private", "first_name": "Ana"}
    assert message["from"] == {
        "id": 301,
        "is_bot": False,
        "first_name": "Ana",
        "language_code": "es",
    }
    assert message["text"] == "/estado"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 7}]
    plain = await say(http, 301, "hola")
    assert "entities" not in plain["message"]
    assert plain["update_id"] == update["update_id"] + 1
    assert plain["message"]["message_id"] == message["message_id"] + 1


async def test_get_updates_offset_confirms_earlier_updates(http, bot):
    ids = [(await say(http, 302, f"m{i}"))["update_id"] for i in range(3)]
    everything = (await bot("getUpdates")).json()["result"]
    assert [u["update_id"] for u in everything] == ids
    # Reading without an offset does not confirm anything.
    assert [u["update_id"] for u in (await bot("getUpdates")).json()["result"]] == ids
    assert [u["update_id"] for u in (await bot("getUpdates", limit=1)).json()["result"]] == ids[:1]

    after_first = (await bot("getUpdates", offset=ids[1])).json()["result"]
    assert [u["update_id"] for u in after_first] == ids[1:]
    # ids[0] is gone for good, even when asking without offset.
    assert [u["update_id"] for u in (await bot("getUpdates")).json()["result"]] == ids[1:]

    assert (await bot("getUpdates", offset=ids[-1] + 1)).json()["result"] == []
    assert (await bot("getUpdates")).json()["result"] == []


async def test_update_ids_keep_increasing_across_reset(http, bot):
    first = await say(http, 303, "antes")
    await http.post("/sandbox/reset")
    second = await say(http, 303, "después")
    assert second["update_id"] > first["update_id"]


async def test_long_polling_wakes_on_new_user_message(http, bot, wait):
    poll = asyncio.create_task(bot("getUpdates", timeout=8))
    # Wait until the request is really parked in the sandbox, then type.
    await wait(lambda: a_poller_is_waiting(http))
    sent_at = time.monotonic()
    update = await say(http, 304, "/estado")
    response = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - sent_at < 4, "long poll should wake up, not time out"
    assert response.json() == {"ok": True, "result": [update]}


async def test_long_polling_times_out_with_empty_result(bot):
    started = time.monotonic()
    response = await bot("getUpdates", timeout=1)
    elapsed = time.monotonic() - started
    assert response.json() == {"ok": True, "result": []}
    assert 0.9 <= elapsed < 3


async def test_newer_poll_terminates_older_one_with_409(http, bot, wait):
    older = asyncio.create_task(bot("getUpdates", timeout=8))
    await wait(lambda: a_poller_is_waiting(http))
    newer = await bot("getUpdates")
    assert newer.json() == {"ok": True, "result": []}
    response = await asyncio.wait_for(older, 5)
    assert response.status_code == 409
    assert response.json()["description"].startswith(
        "Conflict: terminated by other getUpdates request"
    )


async def test_start_deep_link_sends_start_command(http, bot):
    response = await http.post("/sandbox/start", json={"payload": "T-abc_123", "first_name": "Bea"})
    assert response.status_code == 200
    update = response.json()
    message = update["message"]
    assert message["text"] == "/start T-abc_123"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message["from"]["first_name"] == "Bea"
    other = (await http.post("/sandbox/start", json={"payload": "x"})).json()
    assert other["message"]["chat"]["id"] != message["chat"]["id"], "new chat per start"

    again = await http.post("/sandbox/start", json={"payload": "y", "chat_id": 77})
    assert again.json()["message"]["chat"]["id"] == 77
    polled = (await bot("getUpdates")).json()["result"]
    assert [u["message"]["text"] for u in polled] == ["/start T-abc_123", "/start x", "/start y"]


@pytest.mark.parametrize("payload", ["", "a" * 65, "con espacio", "ñandú", "a/b", "a+b"])
async def test_start_rejects_invalid_payload(http, payload):
    response = await http.post("/sandbox/start", json={"payload": payload})
    assert response.status_code == 400
    assert (await http.get("/sandbox/chats")).json() == []


async def test_start_accepts_64_character_payload(http):
    response = await http.post("/sandbox/start", json={"payload": "a" * 64})
    assert response.status_code == 200


async def test_chats_listing(http, bot):
    await say(http, 305, "hola", first_name="Carla")
    await bot("sendMessage", chat_id=305, text="Bienvenida")
    chats = (await http.get("/sandbox/chats")).json()
    assert len(chats) == 1
    chat = chats[0]
    assert chat["id"] == 305
    assert chat["first_name"] == "Carla"
    assert chat["message_count"] == 1
    assert chat["last_message"]["text"] == "Bienvenida"


async def test_send_validates_body(http):
    assert (await http.post("/sandbox/chats/306/send", json={"text": ""})).status_code == 400
    assert (await http.post("/sandbox/chats/306/send", json={})).status_code == 400
