"""The phone page: Spanish UI, safe rendering of whatever the bot or user wrote."""

from __future__ import annotations

import pytest


async def page(http, chat_id=None):
    response = await http.get("/", params={"chat": chat_id} if chat_id is not None else None)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response


async def test_empty_page_renders_in_spanish(http, bot_username):
    response = await page(http)
    html = response.text
    assert '<html lang="es-CL">' in html
    assert "Abrir enlace del bot" in html
    assert "Todavía no hay chats." in html
    assert f"@{bot_username}" in html
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "https://" not in html.replace(f"https://t.me/{bot_username}", "")  # no CDN


async def test_static_assets_are_served_locally(http):
    js = await http.get("/static/phone.js")
    css = await http.get("/static/phone.css")
    assert js.status_code == css.status_code == 200
    assert "/sandbox/chats" in js.text


async def test_script_in_messages_is_escaped(http, bot):
    evil = "<script>alert(1)</script>"
    await bot("sendMessage", chat_id=61, text=evil)
    await http.post("/sandbox/chats/61/send", json={"text": evil, "first_name": "<img src=x>"})
    html = (await page(http, 61)).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "<img src=x>" not in html
    assert "&lt;img src=x&gt;" in html


async def test_telegram_html_keeps_only_whitelisted_tags(http, bot):
    text = (
        '<b>Turno A-12</b> <a href="javascript:alert(1)">malo</a> '
        '<a href="https://example.cl/?a=1&amp;b=2">bueno</a> <tg-spoiler>oculto</tg-spoiler>'
        " &lt;script&gt;"
    )
    assert (await bot("sendMessage", chat_id=62, text=text, parse_mode="HTML")).status_code == 200
    html = (await page(http, 62)).text
    assert "<b>Turno A-12</b>" in html
    assert "javascript:" not in html
    assert "<a>malo</a>" in html
    assert 'href="https://example.cl/?a=1&amp;b=2"' in html
    assert '<span class="tg-spoiler">oculto</span>' in html
    assert "&lt;script&gt;" in html


async def test_messages_are_in_order_newest_last(http, bot):
    for text in ("primero", "segundo", "tercero"):
        await bot("sendMessage", chat_id=63, text=text)
    html = (await page(http, 63)).text
    html = html[html.index('id="messages"') :]  # the chat list also previews "tercero"
    assert html.index("primero") < html.index("segundo") < html.index("tercero")


async def test_unknown_chat_page_still_renders(http):
    assert "Este chat no existe" in (await page(http, 999)).text
    assert (await http.get("/", params={"chat": "abc"})).status_code == 200


@pytest.mark.parametrize(
    "link",
    [
        "https://t.me/{bot}?start=T-77",
        "t.me/{bot}?start=T-77",
        "tg://resolve?domain={bot}&start=T-77",
        "T-77",
    ],
)
async def test_open_link_form_starts_chat(http, bot, bot_username, link):
    response = await http.post(
        "/ui/start", data={"link": link.format(bot=bot_username), "first_name": "Dani"}
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/?chat=")
    chat_id = int(location.removeprefix("/?chat="))
    updates = (await bot("getUpdates")).json()["result"]
    assert [u["message"]["text"] for u in updates] == ["/start T-77"]
    assert updates[0]["message"]["chat"]["id"] == chat_id
    assert "Chat con Dani" in (await page(http, chat_id)).text


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("https://t.me/OtroBot?start=abc", "Ese enlace es de otro bot."),
        ("https://t.me/{bot}?start=con espacio", "No entendí el enlace."),
        ("https://ejemplo.cl/", "No entendí el enlace."),
    ],
)
async def test_open_link_form_errors(http, bot_username, link, message):
    response = await http.post("/ui/start", data={"link": link.format(bot=bot_username)})
    assert response.status_code == 303
    html = (await http.get(response.headers["location"])).text
    assert message in html
    assert (await http.get("/sandbox/chats")).json() == []


async def test_write_form_sends_user_message(http, bot):
    await http.post("/sandbox/chats/64/send", json={"text": "hola"})
    response = await http.post("/ui/send", data={"chat_id": "64", "text": "/estado"})
    assert response.status_code == 303
    assert response.headers["location"] == "/?chat=64"
    texts = [u["message"]["text"] for u in (await bot("getUpdates")).json()["result"]]
    assert texts == ["hola", "/estado"]
    assert "/estado" in (await page(http, 64)).text
