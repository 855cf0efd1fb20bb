"""Home lists the pages and the branches; /docs and /redoc render offline from packaged
assets, every request staying on loopback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.pages.conftest import DESKTOP, PHONE, console_errors, offsite_requests, wait_for
from tests.support.branches import add_branch

pytestmark = pytest.mark.e2e


async def test_home_lists_the_pages_and_the_branches(
    api: httpx.AsyncClient,
    browser: WebDriver,
    site: str,
    screenshot: Callable[..., Path],
    axe_check: Callable[[WebDriver], object],
) -> None:
    branch = await add_branch(api, "Inicio")
    browser.get(site + "/?lang=es")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
    pages = {
        a.get_attribute("data-page"): a for a in browser.find_elements(By.CSS_SELECTOR, "a.card")
    }
    assert set(pages) == {"kiosk", "board", "advisor", "supervisor", "docs", "redoc"}
    assert pages["advisor"].get_attribute("href").endswith("/advisor")
    assert pages["supervisor"].get_attribute("href").endswith("/supervisor")
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#branch option")]
    assert branch in options and "Test" in options
    axe_check(browser)
    screenshot(browser, "home", DESKTOP)
    screenshot(browser, "home", PHONE)

    # The picker opens the chosen branch's kiosk; the switch turns the page to English.
    browser.find_element(By.LINK_TEXT, "English").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert (
        browser.find_element(By.CSS_SELECTOR, "a.card[data-page=kiosk] .card-title").text == "Kiosk"
    )
    browser.get(site + "/")  # the cookie keeps English
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    browser.get(site + "/?lang=es")
    assert not console_errors(browser), console_errors(browser)


async def test_the_picker_opens_a_branch_page_and_the_runbook_branch_has_a_kiosk(
    site: str,
) -> None:
    async with httpx.AsyncClient(base_url=site) as api:  # no language cookie yet
        await picker_and_runbook_branch(api)


async def picker_and_runbook_branch(api: httpx.AsyncClient) -> None:
    picked = await api.get("/go", params={"branch": "Test", "page": "display", "lang": "en"})
    assert picked.status_code == 303 and picked.headers["location"] == "/display/Test?lang=en"
    kiosk = await api.get("/kiosk/Test")
    assert kiosk.status_code == 200 and 'data-queue="CAJA"' in kiosk.text
    assert kiosk.headers["content-language"] == "es"
    assert "script-src" not in kiosk.headers["content-security-policy"]  # the strict one
    assert "<script>" not in kiosk.text and " style=" not in kiosk.text
    english = await api.get("/kiosk/test", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.headers["content-language"] == "en" and "Take a number" in english.text
    queues = (await api.get("/api/public/branches/Test/queues")).json()
    assert [q["queue"] for q in queues["queues"]][-1] == "CAJA"
    assert set(queues["queues"][0]) == {
        "queue",
        "prefix",
        "waiting",
        "estimatedWaitMinutes",
        "estimatedWaitRange",
        "estimatedWaitReason",
    }
    assert (await api.get("/api/public/branches/Nope%20x/queues")).status_code == 404
    assert "Test" in (await api.get("/api/public/branches")).json()["branches"]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_api_docs_render_offline(
    browser: WebDriver, site: str, screenshot: Callable[..., Path], path: str
) -> None:
    browser.get_log("performance")  # forget earlier pages' requests
    browser.get(site + path)
    if path == "/docs":
        wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 10, 30)
        summaries = " ".join(
            e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        )
    else:
        wait_for(browser, lambda d: "/api/tickets" in d.find_element(By.TAG_NAME, "body").text, 30)
        summaries = browser.find_element(By.TAG_NAME, "body").text
    assert "/api/tickets" in summaries and "/api/public/branches" in summaries
    screenshot(browser, path.strip("/"), DESKTOP)
    assert not offsite_requests(browser), offsite_requests(browser)
    # ReDoc's footer logo is on its CDN: refused (img-src), the rest ran under the CSP.
    errors = [
        e for e in console_errors(browser) if "Content Security Policy" in e and "img-src" not in e
    ]
    assert not errors, errors
