"""The waiting-room board in a real browser, next to a kiosk in a second browser: it shows
the call the moment an advisor makes it, without a reload; it says "sin conexión" while the
API is away and comes back by itself when it restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.pages.conftest import DESKTOP, PHONE, TV, TV_720, Factory, console_errors, wait_for
from tests.pages.test_kiosk import choose, fresh_rut, type_rut
from tests.support.branches import add_branch
from tests.support.data import ticket_body
from tests.support.stack import Stack
from tests.support.staff import add_advisor

pytestmark = pytest.mark.e2e


async def until(
    driver: WebDriver, condition: Callable[[WebDriver], Any], seconds: float = 20
) -> Any:
    """wait_for in a thread: the event loop keeps serving the stack's processes meanwhile."""
    return await asyncio.to_thread(wait_for, driver, condition, seconds)


def connected(driver: WebDriver) -> bool:
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-connected") == "true"


def waiting(driver: WebDriver, queue: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, f"#waiting li[data-queue={queue}] .count").text)


def first_call(driver: WebDriver) -> tuple[str, str, str]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#calls tr")
    if not rows:
        return ("", "", "")
    cells = rows[0].find_elements(By.TAG_NAME, "td")
    return (cells[0].text, cells[1].text, rows[0].get_attribute("class") or "")


async def test_the_board_shows_a_call_live_next_to_the_kiosk(
    api: httpx.AsyncClient,
    db: AsyncEngine,
    browser: WebDriver,
    browser_factory: Factory,
    site: str,
    screenshot: Callable[..., Path],
    axe_check: Callable[[WebDriver], object],
) -> None:
    branch = await add_branch(api, "Pantalla")
    board = browser_factory(size=TV)
    board.get(f"{site}/display/{quote(branch)}?lang=es")
    await until(board, connected)
    assert not board.find_element(By.ID, "offline").is_displayed()
    assert board.find_element(By.ID, "no-calls").text == "Aún no hay llamados."
    board.execute_script("window.__sameDocument = true")
    assert board.find_element(By.TAG_NAME, "body").get_attribute("data-sound") == "off"

    # A customer takes a number at the kiosk (the other browser).
    browser.get(f"{site}/kiosk/{quote(branch)}?lang=es")
    choose(browser, "CAJA")
    type_rut(browser, fresh_rut()[0])
    browser.find_element(By.ID, "submit").click()
    number = await until(browser, lambda d: d.find_element(By.ID, "ticket-number").text, 30)
    await until(board, lambda d: waiting(d, "CAJA") == "1")

    # An advisor calls it: the board shows number and desk, highlighted.
    advisor = await add_advisor(db, api, branch, desk=3, queues=["CAJA"], status="AVAILABLE")
    called = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    assert called.status_code == 200, called.text
    await until(board, lambda d: first_call(d)[:2] == (number, "3"))
    assert "latest" in first_call(board)[2]
    await until(board, lambda d: waiting(d, "CAJA") == "0")
    assert board.find_element(By.ID, "announce").text == f"Número {number}, módulo 3"
    assert board.execute_script("return window.__sameDocument") is True

    # A second call goes on top; the first stays below.
    other = (await api.post("/api/tickets", json=ticket_body(branch))).json()
    second = await add_advisor(db, api, branch, desk=12, queues=["CAJA"], status="AVAILABLE")
    assert (await api.post("/api/advisors/me/call-next", headers=second.headers)).status_code == 200
    await until(board, lambda d: first_call(d)[:2] == (other["number"], "12"))
    rows = board.find_elements(By.CSS_SELECTOR, "#calls tr")
    assert [r.find_element(By.TAG_NAME, "td").text for r in rows] == [other["number"], number]

    # Sound: off until the first gesture, then on; the button mutes it again.
    board.find_element(By.TAG_NAME, "h1").click()
    assert board.find_element(By.TAG_NAME, "body").get_attribute("data-sound") == "on"
    sound = board.find_element(By.ID, "sound")
    assert sound.text == "Silenciar" and sound.get_attribute("aria-pressed") == "true"
    sound.click()
    assert board.find_element(By.TAG_NAME, "body").get_attribute("data-sound") == "off"
    board.execute_script("localStorage.clear()")

    axe_check(board)
    for size in (TV, TV_720, DESKTOP, PHONE):
        screenshot(board, "board", size)
    assert not console_errors(board), console_errors(board)


async def test_the_board_says_offline_and_reconnects_after_an_api_restart(
    api: httpx.AsyncClient,
    db: AsyncEngine,
    stack: Stack,
    browser_factory: Factory,
    site: str,
    screenshot: Callable[..., Path],
) -> None:
    branch = await add_branch(api, "Pantalla")
    board = browser_factory(size=TV_720)
    board.get(f"{site}/display/{quote(branch)}?lang=es")
    await until(board, connected)
    board.execute_script("window.__sameDocument = true")

    await stack.supervisor.stop("api")
    try:
        await until(board, lambda d: d.find_element(By.ID, "offline").is_displayed())
        assert board.find_element(By.ID, "offline").text == "Sin conexión: reconectando…"
        screenshot(board, "board-offline", TV_720)
    finally:
        await stack.supervisor.restart("api")
    await until(board, connected, 60)
    assert not board.find_element(By.ID, "offline").is_displayed()

    ticket = (await api.post("/api/tickets", json=ticket_body(branch))).json()
    advisor = await add_advisor(db, api, branch, desk=5, queues=["CAJA"], status="AVAILABLE")
    assert (
        await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    ).status_code == 200
    await until(board, lambda d: first_call(d)[:2] == (ticket["number"], "5"), 30)
    assert board.execute_script("return window.__sameDocument") is True
