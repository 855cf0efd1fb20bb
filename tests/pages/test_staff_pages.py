"""The advisor console and the supervisor page in a real headless Chromium: log in, work
a ticket with the keyboard only, pause after it, find it by number with its messages'
delivery state, manage advisors; screenshots at desktop and phone size, axe-core clean.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.pages.conftest import (
    DESKTOP,
    PHONE,
    Factory,
    console_errors,
    set_viewport,
    wait_for,
)
from tests.support.branches import add_branch
from tests.support.data import chat_id, ticket_body
from tests.support.staff import PASSWORD, Staff, add_advisor, add_user
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e


def text_of(driver: WebDriver, css: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def visible(driver: WebDriver, css: str) -> bool:
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return bool(found) and found[0].is_displayed()


def log_in(driver: WebDriver, url: str, who: Staff, main: str) -> None:
    """Open `url` and log in with the keyboard: type, Tab, type, Enter."""
    driver.get(url)
    wait_for(driver, lambda d: visible(d, "#login"))
    user = driver.find_element(By.ID, "login-username")
    user.click()
    user.send_keys(who.username, Keys.TAB, PASSWORD, Keys.ENTER)
    wait_for(driver, lambda d: visible(d, main))


def press(driver: WebDriver, key: str) -> None:
    """A key pressed on the page itself (focus on the body, as after a click elsewhere)."""
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    ActionChains(driver).send_keys(key).perform()


def top(driver: WebDriver) -> None:
    driver.execute_script("window.scrollTo(0, 0)")


def fits(driver: WebDriver) -> bool:
    """No horizontal scroll at the current size (names what sticks out otherwise)."""
    wide = driver.execute_script(
        "var w = document.documentElement.clientWidth; var out = [];"
        "document.querySelectorAll('body *').forEach(function (e) {"
        " var r = e.getBoundingClientRect(); if (r.right > w + 1 && e.offsetParent"
        " && !e.closest('.table-wrap'))"
        " { out.push(e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(r.right)); } });"
        "return out.slice(0, 8);"
    )
    assert not wide, wide
    return bool(
        driver.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def button(driver: WebDriver, element_id: str) -> WebElement:
    return driver.find_element(By.ID, element_id)


async def test_the_console_works_a_ticket_from_the_keyboard_and_pauses_after_it(
    api: httpx.AsyncClient,
    db: AsyncEngine,
    browser_factory: Factory,
    site: str,
    screenshot: Callable[..., Path],
    axe_check: Callable[[WebDriver], object],
) -> None:
    branch = await add_branch(api, "Consola")
    advisor = await add_advisor(db, api, branch, desk=3, queues=["CAJA", "EMPRESAS"])
    first = (await api.post("/api/tickets", json=ticket_body(branch, "CAJA"))).json()
    second = (await api.post("/api/tickets", json=ticket_body(branch, "CAJA"))).json()
    await api.post("/api/tickets", json=ticket_body(branch, "PERSONAL_BANKER"))
    driver = browser_factory(DESKTOP, "es")

    driver.get(site + "/advisor?lang=es")
    wait_for(driver, lambda d: visible(d, "#login"))
    axe_check(driver)
    screenshot(driver, "advisor-login", DESKTOP)
    log_in(driver, site + "/advisor", advisor, "#console")
    wait_for(driver, lambda d: "Módulo 3" in text_of(d, "#who-desk"))
    counts = {
        li.find_element(By.CSS_SELECTOR, ".waiting-queue").text: li.find_element(
            By.CSS_SELECTOR, ".count"
        ).text
        for li in driver.find_elements(By.CSS_SELECTOR, "#waiting li")
    }
    assert counts["Caja · sus filas"] == "2" and counts["Ejecutivo personal"] == "1"
    assert "N" in button(driver, "act-call").text

    # Keyboard only: the shortcut calls the next ticket, Tab + Enter reaches the buttons.
    press(driver, "n")
    wait_for(driver, lambda d: text_of(d, "#ticket-number") == first["number"])
    assert "Llamado" in text_of(driver, "#ticket-status")
    assert "Llamando" in text_of(driver, "#notice")
    assert "RUT" not in driver.page_source and "nationalId" not in driver.page_source
    driver.refresh()  # the session survives a reload
    wait_for(driver, lambda d: visible(d, "#console"))
    wait_for(driver, lambda d: text_of(d, "#ticket-number") == first["number"])
    press(driver, "s")
    wait_for(driver, lambda d: "En atención" in text_of(d, "#ticket-status"))
    focused = button(driver, "act-complete")
    driver.execute_script("arguments[0].focus()", focused)
    assert driver.switch_to.active_element == focused
    button(driver, "after-break").click()
    wait_for(driver, lambda d: "Pausa programada" in text_of(d, "#after-state"))
    axe_check(driver)
    top(driver)
    screenshot(driver, "advisor-console", DESKTOP)
    screenshot(driver, "advisor-console", PHONE)
    assert fits(driver), "the phone page is wider than the screen"
    set_viewport(driver, DESKTOP)
    driver.execute_script("arguments[0].focus()", button(driver, "act-complete"))
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait_for(driver, lambda d: visible(d, "#no-ticket"))
    wait_for(driver, lambda d: text_of(d, "#status-badge") == "En pausa")
    resp = await api.get(f"/api/tickets/{second['reference']}")
    assert resp.json()["status"] == "WAITING"

    # A refused action is explained in the page's language.
    me = await api.post("/api/advisors/me/call-next", headers=advisor.headers)
    assert me.status_code == 200
    wait_for(driver, lambda d: text_of(d, "#ticket-number") == second["number"])
    driver.execute_script("document.getElementById('act-call').disabled = false")
    button(driver, "act-call").click()
    wait_for(driver, lambda d: "Primero termine" in text_of(d, "#error"))

    button(driver, "logout").click()
    wait_for(driver, lambda d: visible(d, "#login"))
    driver.refresh()
    wait_for(driver, lambda d: visible(d, "#login"))
    unexpected = [e for e in console_errors(driver) if "call-next" not in e or "409" not in e]
    assert not unexpected, unexpected


async def test_the_supervisor_finds_a_ticket_with_its_messages_and_manages_advisors(
    api: httpx.AsyncClient,
    db: AsyncEngine,
    browser_factory: Factory,
    site: str,
    screenshot: Callable[..., Path],
    axe_check: Callable[[WebDriver], object],
) -> None:
    branch = await add_branch(api, "Supervision")
    advisor = await add_advisor(db, api, branch, desk=2, queues=["CAJA"])
    ticket = (
        await api.post("/api/tickets", json=ticket_body(branch, "CAJA", telegramChatId=chat_id()))
    ).json()
    await api.put("/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=advisor.headers)
    supervisor = await add_user(db, api, "supervisor")
    driver = browser_factory(DESKTOP, "es")

    log_in(driver, f"{site}/supervisor?lang=es&branch={quote(branch)}", supervisor, "#board")
    wait_for(driver, lambda d: d.find_element(By.ID, "branch").get_attribute("value") == branch)
    wait_for(driver, lambda d: "Asesor 2" in text_of(d, "#advisors tbody"))
    assert "Caja" in text_of(driver, "#queues tbody")

    async def delivered() -> bool:
        history = await api.get(
            f"/api/tickets/{ticket['reference']}/history", headers=supervisor.headers
        )
        return [m["state"] for m in history.json()["messages"]] == ["SENT", "SENT"]

    await eventually(delivered, timeout=25, what="the two messages delivered")
    driver.find_element(By.ID, "search-number").send_keys(ticket["number"].lower(), Keys.ENTER)
    wait_for(driver, lambda d: "Es su turno" in text_of(d, "#search-result"))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#search-result .delivery-sent")) == 2
    result = text_of(driver, "#search-result")
    assert f"Turno {ticket['number']}" in result and "Número emitido" in result
    assert "Emitido" in result
    axe_check(driver)
    top(driver)
    screenshot(driver, "supervisor", DESKTOP)
    screenshot(driver, "supervisor", PHONE)
    assert fits(driver), "the phone page is wider than the screen"
    set_viewport(driver, DESKTOP)

    # Create an advisor, then deactivate them.
    driver.find_element(By.ID, "form-name").send_keys("Ana Pérez")
    driver.find_element(By.ID, "form-email").send_keys(f"ana.{chat_id()}@bank.test")
    driver.find_element(By.ID, "form-desk").send_keys("9")
    driver.find_element(By.CSS_SELECTOR, "input[name=queues][value=EMPRESAS]").click()
    button(driver, "form-submit").click()
    wait_for(driver, lambda d: "Ana Pérez fue creado" in text_of(d, "#form-ok"))
    wait_for(driver, lambda d: "Ana Pérez" in text_of(d, "#staff tbody"))
    driver.find_element(By.CSS_SELECTOR, "button[aria-label='Desactivar a Ana Pérez']").click()
    wait_for(driver, lambda d: "Inactivo" in text_of(d, "#staff tbody"))
    listed = await api.get(
        "/api/advisors", params={"branchOffice": branch}, headers=supervisor.headers
    )
    ana = next(a for a in listed.json() if a["name"] == "Ana Pérez")
    assert ana["active"] is False and ana["desk"] == 9 and ana["queues"] == ["EMPRESAS"]
    assert not console_errors(driver), console_errors(driver)
