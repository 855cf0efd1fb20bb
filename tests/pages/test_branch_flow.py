"""The issue's whole branch flow in four browser windows open at once: a customer takes a
number at the kiosk and follows it on Telegram (the sandbox phone opens the deep link), the
board shows it when the advisor calls it from the console (no reload), the advisor serves
and completes it with the keyboard, and the supervisor finds it by number with its
history and each message's delivery state."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.national_id import rut_check_digit
from tests.pages.conftest import DESKTOP, PHONE, TV_720, Factory, wait_for
from tests.pages.test_staff_pages import log_in, press, text_of, top, visible
from tests.support.branches import add_branch
from tests.support.data import chat_id
from tests.support.staff import add_advisor, add_user

pytestmark = pytest.mark.e2e


async def until(
    driver: WebDriver, condition: Callable[[WebDriver], Any], seconds: float = 20
) -> Any:
    """wait_for in a thread: the event loop keeps serving the stack's processes meanwhile."""
    return await asyncio.to_thread(wait_for, driver, condition, seconds)


def connected(driver: WebDriver) -> bool:
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-connected") == "true"


def first_call(driver: WebDriver) -> tuple[str, str]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#calls tr")
    if not rows:
        return ("", "")
    cells = rows[0].find_elements(By.TAG_NAME, "td")
    return (cells[0].text, cells[1].text)


async def test_kiosk_board_console_and_supervisor_together(
    api: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    db: AsyncEngine,
    browser_factory: Factory,
    site: str,
    screenshot: Callable[..., Path],
    axe_check: Callable[[WebDriver], object],
) -> None:
    branch = await add_branch(api, "Flujo")
    advisor = await add_advisor(db, api, branch, desk=4, queues=["CAJA"])
    supervisor = await add_user(db, api, "supervisor")
    where = quote(branch, safe="")

    # The board, on a second window, waits for calls.
    board = browser_factory(TV_720, "es")
    board.get(f"{site}/display/{where}")
    await until(
        board,
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-connected") == "true",
    )

    # The customer takes a number at the kiosk.
    kiosk = browser_factory(DESKTOP, "es")
    kiosk.get(f"{site}/kiosk/{where}?lang=es")
    await until(kiosk, lambda d: d.find_elements(By.CSS_SELECTOR, ".queue-button[data-queue=CAJA]"))
    kiosk.find_element(By.CSS_SELECTOR, ".queue-button[data-queue=CAJA]").click()
    await until(kiosk, lambda d: d.find_element(By.ID, "rut").is_displayed())
    body = str(random.randint(10_000_000, 29_999_999))
    kiosk.find_element(By.ID, "rut").send_keys(body + rut_check_digit(body))
    kiosk.find_element(By.ID, "submit").click()
    number = await until(kiosk, lambda d: d.find_element(By.ID, "ticket-number").text, 30)
    link = kiosk.find_element(By.ID, "tg-link").get_attribute("href") or ""
    payload = parse_qs(urlsplit(link).query)["start"][0]
    chat = chat_id()
    started = await sandbox.post("/sandbox/start", json={"payload": payload, "chat_id": chat})
    assert started.status_code == 200, started.text

    # The advisor logs in and calls it with the keyboard; the board shows it, no reload.
    console = browser_factory(DESKTOP, "es")
    await asyncio.to_thread(log_in, console, f"{site}/advisor?lang=es", advisor, "#console")
    await until(console, lambda d: "Caja · sus filas" in text_of(d, "#waiting"))
    board_url = board.current_url
    press(console, "n")
    await until(console, lambda d: text_of(d, "#ticket-number") == number)
    await until(board, lambda d: first_call(d) == (number, "4"))
    assert board.current_url == board_url
    screenshot(board, "flow-board", TV_720)

    press(console, "s")
    await until(console, lambda d: "En atención" in text_of(d, "#ticket-status"))
    console.execute_script("document.getElementById('act-complete').focus()")
    console.switch_to.active_element.send_keys(Keys.ENTER)
    await until(console, lambda d: visible(d, "#no-ticket"))
    assert f"Atención del {number} terminada" in text_of(console, "#notice")
    top(console)
    screenshot(console, "flow-advisor", DESKTOP)
    screenshot(console, "flow-advisor", PHONE)

    # The supervisor finds it by number: its history and each message's delivery.
    office = browser_factory(DESKTOP, "es")
    await asyncio.to_thread(
        log_in, office, f"{site}/supervisor?lang=es&branch={where}", supervisor, "#board"
    )
    await until(office, lambda d: d.find_element(By.ID, "branch").get_attribute("value") == branch)

    async def searched() -> str:
        office.find_element(By.ID, "search-number").clear()
        office.find_element(By.ID, "search-number").send_keys(number, Keys.ENTER)
        await until(office, lambda d: "Mensajes al cliente" in text_of(d, "#search-result"))
        return text_of(office, "#search-result")

    for _ in range(30):  # the YOUR_TURN message is delivered within a second or two
        result = await searched()
        if result.count("Entregado") >= 2:
            break
        await asyncio.sleep(0.5)
    assert "Fin de atención" in result and "Atendido" in result
    assert "Número emitido" in result and "Es su turno" in result
    assert result.count("Entregado") >= 2, result
    axe_check(office)
    top(office)
    screenshot(office, "flow-supervisor", DESKTOP)
    screenshot(office, "flow-supervisor", PHONE)
