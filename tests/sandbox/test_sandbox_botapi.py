"""Bot API methods over real HTTP: shapes, validation and Telegram's error wording."""

from __future__ import annotations

from datetime import datetime

import pytest


async def test_get_me(bot, bot_username):
    response = await bot("getMe")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "result": {
            "id": response.json()["result"]["id"],
            "is_bot": True,
            "first_name": "Ticketero",
            "username": bot_username,
        },
    }
    assert isinstance(response.json()["result"]["id"], int)


async def test_wrong_token_is_401(http):
    response = await http.get("/botwrong-token/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_is_404(bot):
    response = await bot("sendPhoto", chat_id=1)
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_send_message_shape_and_per_chat_ids(bot, http):
    first = await bot("sendMessage", chat_id=501, text="Tu turno es A-12")
    second = await bot("sendMessage", chat_id="501", text="Quedan 2 personas")
    other = await bot("sendMessage", chat_id=502, text="Hola")
    assert first.status_code == 200
    body = first.json()
    assert body["ok"] is True
    result = body["result"]
    assert result["chat"] == {"id": 501, "type": "private"}
    assert result["text"] == "Tu turno es A-12"
    assert isinstance(result["date"], int)
    assert second.json()["result"]["message_id"] == result["message_id"] + 1
    assert other.json()["result"]["message_id"] == 1

    messages = (await http.get("/sandbox/chats/501/messages")).json()
    assert [m["text"] for m in messages] == ["Tu turno es A-12", "Quedan 2 personas"]
    assert [m["message_id"] for m in messages] == [1, 2]
    assert messages[0]["chat_id"] == 501
    assert messages[0]["parse_mode"] is None
    received = datetime.fromisoformat(messages[0]["received_at"])
    assert received.tzinfo is not None
    assert len(messages[0]["received_at"].split(".")[1]) >= 6  # microseconds

    since = (await http.get("/sandbox/chats/501/messages", params={"since_message_id": 1})).json()
    assert [m["message_id"] for m in since] == [2]


async def test_query_string_and_form_parameters_work_like_telegram(http, token):
    by_query = await http.get(f"/bot{token}/sendMessage", params={"chat_id": 7, "text": "q"})
    by_form = await http.post(f"/bot{token}/sendMessage", data={"chat_id": "7", "text": "f"})
    assert by_query.json()["ok"] and by_form.json()["ok"]
    assert by_form.json()["result"]["message_id"] == 2


async def test_unknown_chat_messages_is_404(http):
    response = await http.get("/sandbox/chats/999/messages")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": "hola"}, "Bad Request: chat_id is empty"),
        ({"chat_id": 5}, "Bad Request: message text is empty"),
        ({"chat_id": 5, "text": "   "}, "Bad Request: message text is empty"),
        ({"chat_id": "@canal", "text": "hola"}, "Bad Request: chat not found"),
    ],
)
async def test_send_message_bad_request(bot, http, params, description):
    response = await bot("sendMessage", **params)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}
    assert (await http.get("/sandbox/chats")).json() == []


async def test_message_too_long(bot, http):
    assert (await bot("sendMessage", chat_id=9, text="x" * 4096)).status_code == 200
    response = await bot("sendMessage", chat_id=9, text="x" * 4097)
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: message is too long"
    # Length counts what the user sees: tags do not count in HTML mode.
    tagged = "<b>" + "x" * 4096 + "</b>"
    ok = await bot("sendMessage", chat_id=9, text=tagged, parse_mode="HTML")
    assert ok.status_code == 200
    assert len((await http.get("/sandbox/chats/9/messages")).json()) == 2


@pytest.mark.parametrize(
    "text",
    [
        "<b>sin cerrar",
        "<b>cruzado <i>mal</b></i>",
        "<div>no soportado</div>",
        "<script>alert(1)</script>",
        "Tom & Jerry",
        "1 < 2",
        "2 > 1",
        "</b>",
        '<span class="otra">x</span>',
        "&nbsp;",
    ],
)
async def test_invalid_html_is_rejected(bot, http, text):
    response = await bot("sendMessage", chat_id=11, text=text, parse_mode="HTML")
    assert response.status_code == 400
    assert response.json()["description"].startswith("Bad Request: can't parse entities: ")
    assert (await http.get("/sandbox/chats")).json() == []


async def test_escaped_and_formatted_html_is_accepted(bot, http):
    text = (
        "<b>Turno A-12</b> &amp; <i>módulo</i> 3 &lt;ya&gt; &quot;ok&quot; &#128512;\n"
        '<a href="https://example.cl/t?a=1&amp;b=2">ver</a> <tg-spoiler>x</tg-spoiler> '
        '<span class="tg-spoiler">y</span> <pre><code class="language-text">c</code></pre>'
        " <blockquote>q</blockquote> <u>u</u><s>s</s><strong>s</strong><em>e</em>"
    )
    response = await bot("sendMessage", chat_id=12, text=text, parse_mode="HTML")
    assert response.status_code == 200, response.text
    assert response.json()["result"]["text"].startswith('Turno A-12 & módulo 3 <ya> "ok" 😀')
    stored = (await http.get("/sandbox/chats/12/messages")).json()[0]
    assert stored["text"] == text
    assert stored["parse_mode"] == "HTML"


async def test_plain_text_may_contain_markup_characters(bot):
    response = await bot("sendMessage", chat_id=13, text="1 < 2 & <b>")
    assert response.status_code == 200


async def test_answer_callback_query_is_a_noop(bot):
    response = await bot("answerCallbackQuery", callback_query_id="abc")
    assert response.json() == {"ok": True, "result": True}


async def test_method_names_are_case_insensitive(http, token):
    response = await http.get(f"/bot{token}/getme")
    assert response.json()["ok"] is True
