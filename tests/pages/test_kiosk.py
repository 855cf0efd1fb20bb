"""The kiosk in a real browser: pick a queue, a wrong RUT is refused as it is typed, a right
one gets a number with its QR; the same RUT again is told kindly about its active ticket;
a kiosk token is taken from the URL fragment once and sent with the tickets."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from domain.national_id import rut_check_digit
from tests.pages.conftest import DESKTOP, PHONE, console_errors, wait_for
from tests.support.branches import add_branch, bootstrap_headers

pytestmark = pytest.mark.e2e


def fresh_rut() -> tuple[str, str]:
    """A random valid RUT as a person types it (digits only) and its wrong-check twin."""
    body = str(random.randint(10_000_000, 29_999_999))
    right = rut_check_digit(body)
    wrong = next(d for d in "0123456789K" if d != right)
    return body + right, body + wrong


def type_rut(driver: WebDriver, text: str) -> None:
    field = driver.find_element(By.ID, "rut")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    field.send_keys(text)


def feedback(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "rut-feedback").text)


def choose(driver: WebDriver, queue: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f".queue-button[data-queue={queue}]").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "rut").is_displayed())


async def test_a_customer_takes_a_number_at_the_kiosk(
    api: httpx.AsyncClient,
    browser: WebDriver,
    site: str,
    screenshot: Callable[..., Path],
    axe_check: Callable[[WebDriver], object],
) -> None:
    branch = await add_branch(api, "Kiosco")
    browser.get(f"{site}/kiosk/{quote(branch)}?lang=es")
    buttons = browser.find_elements(By.CSS_SELECTOR, ".queue-button")
    assert [b.get_attribute("data-queue") for b in buttons][:1] == ["GERENCIA"] or buttons
    caja = browser.find_element(By.CSS_SELECTOR, ".queue-button[data-queue=CAJA]")
    assert "Caja" in caja.text and "Nadie en espera" in caja.text
    axe_check(browser)
    screenshot(browser, "kiosk", DESKTOP)
    screenshot(browser, "kiosk", PHONE)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    choose(browser, "CAJA")
    right, wrong = fresh_rut()
    type_rut(browser, wrong)
    assert feedback(browser) == "El dígito verificador no corresponde a este RUT."
    assert browser.find_element(By.ID, "rut").get_attribute("aria-invalid") == "true"
    assert re.fullmatch(
        r"\d{1,2}\.\d{3}\.\d{3}-[0-9K]",
        browser.find_element(By.ID, "rut").get_attribute("value") or "",
    )
    browser.find_element(By.ID, "submit").click()  # refused in the page: nothing sent
    assert browser.find_element(By.ID, "kiosk-message").is_displayed() is False
    type_rut(browser, right[:5])
    assert feedback(browser) == "Siga escribiendo: faltan dígitos."
    type_rut(browser, right)
    assert feedback(browser) == "RUT válido."
    assert browser.find_element(By.ID, "rut").get_attribute("aria-invalid") == "false"
    axe_check(browser)
    screenshot(browser, "kiosk-rut", DESKTOP)

    browser.find_element(By.ID, "submit").click()
    number = wait_for(browser, lambda d: d.find_element(By.ID, "ticket-number").text, 30)
    assert re.fullmatch(r"C\d+", number), number
    qr = browser.find_element(By.ID, "qr-img")
    wait_for(browser, lambda d: d.execute_script("return arguments[0].naturalWidth", qr) > 0)
    assert (browser.find_element(By.ID, "tg-link").get_attribute("href") or "").startswith(
        "https://t.me/"
    )
    assert browser.find_element(By.ID, "ticket-queue").text == "Caja"
    assert browser.find_element(By.ID, "ticket-ahead").text == "0"
    axe_check(browser)
    screenshot(browser, "kiosk-ticket", DESKTOP)
    screenshot(browser, "kiosk-ticket", PHONE)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element(By.CSS_SELECTOR, ".site-header").is_displayed()
        assert not browser.find_element(By.ID, "print").is_displayed()
        assert browser.find_element(By.ID, "ticket-number").is_displayed()
        screenshot(browser, "kiosk-print", (794, 1123))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # The same person again: told kindly, with the number they already hold.
    browser.find_element(By.ID, "next").click()
    choose(browser, "PERSONAL_BANKER")
    type_rut(browser, right)
    browser.find_element(By.ID, "submit").click()
    message = wait_for(
        browser,
        lambda d: (
            d.find_element(By.ID, "kiosk-message").is_displayed()
            and d.find_element(By.ID, "kiosk-message")
        ),
        30,
    )
    assert "Usted ya tiene un número" in message.text and number in message.text, message.text
    assert "alert-info" in (message.get_attribute("class") or "")
    axe_check(browser)
    screenshot(browser, "kiosk-409", DESKTOP)
    queues = (await api.get(f"/api/public/branches/{quote(branch)}/queues")).json()
    assert {q["queue"]: q["waiting"] for q in queues["queues"]}["CAJA"] == 1
    assert not console_errors(browser), console_errors(browser)


async def test_the_kiosk_speaks_english_and_keeps_its_device_token(
    api: httpx.AsyncClient, browser: WebDriver, site: str
) -> None:
    branch = await add_branch(api, "Kiosco")
    issued = await api.post(
        f"/api/branches/{quote(branch, safe='')}/kiosks",
        json={"label": "hall"},
        headers=await bootstrap_headers(api),
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    browser.get(f"{site}/kiosk/{quote(branch)}?lang=en#token={token}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "#" not in browser.current_url  # the token left the address bar
    key = f"ticketero.kioskToken.{branch.lower()}"
    assert browser.execute_script("return localStorage.getItem(arguments[0])", key) == token
    assert browser.find_element(By.ID, "kiosk-notice").text == "This kiosk is now identified."
    choose(browser, "CAJA")
    type_rut(browser, fresh_rut()[0])
    assert feedback(browser) == "Valid RUT."
    browser.find_element(By.ID, "submit").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "ticket-number").text, 30)
    assert browser.find_element(By.ID, "ticket-queue").text == "Teller"

    # Revoked: the kiosk forgets the token, says so, and still serves the customer.
    kiosk_id = issued.json()["id"]
    revoked = await api.delete(
        f"/api/branches/{quote(branch, safe='')}/kiosks/{kiosk_id}",
        headers=await bootstrap_headers(api),
    )
    assert revoked.status_code == 204
    browser.find_element(By.ID, "next").click()
    choose(browser, "CAJA")
    type_rut(browser, fresh_rut()[0])
    browser.find_element(By.ID, "submit").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "step-ticket").is_displayed(), 30)
    assert "not valid" in browser.find_element(By.ID, "kiosk-notice").text
    assert browser.execute_script("return localStorage.getItem(arguments[0])", key) is None
    browser.execute_script("localStorage.clear()")


async def test_an_unknown_branch_gets_a_page_not_json(browser: WebDriver, site: str) -> None:
    browser.get(f"{site}/kiosk/No%20such%20branch?lang=es")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Sucursal no encontrada"
