"""Browser harness: Debian's headless Chromium driven by Selenium against the test stack.

Fixtures (function scope unless said):

- `browser` (session): one Chromium window, Spanish, desktop size; `browser_factory`
  (session) opens more, e.g. a second context for a board next to a kiosk:
  `browser_factory(size=TV, lang="en")`. All are closed at the end of the session.
- `site` (session): the stack's API URL (`site + "/kiosk/Test"`).
- `screenshot(driver, name, size)`: the viewport set to `size` (CSS pixels, exact, via
  device-metrics emulation), saved to `var/screenshots/<name>-<w>x<h>.png`; returns the path.
- `axe_check(driver)`: runs axe-core (the copy the `axe-selenium-python` package ships) on
  the page and fails on `serious` or `critical` violations.
- module helpers: `wait_for(driver, condition, timeout)`, `console_errors(driver)`
  (SEVERE console messages, CSP refusals included), `offsite_requests(driver)` (every
  request that left loopback, from the performance log; the browser also resolves no
  name but 127.0.0.1/localhost, so the network is unavailable except loopback).

Chromium is `/usr/bin/chromium` with `/usr/bin/chromedriver`; `make tools` (part of
`make test`) installs both when missing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import axe_selenium_python
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.stack import REPO, Stack

CHROMIUM = os.environ.get("TICKETERO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TICKETERO_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = REPO / "var" / "screenshots"
AXE_JS = Path(axe_selenium_python.__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

DESKTOP = (1366, 768)
PHONE = (390, 844)
TV = (1920, 1080)
TV_720 = (1280, 720)

Size = tuple[int, int]
Factory = Callable[..., WebDriver]


def _options(size: Size, lang: str) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # the tests run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=user-gesture-required",
        # The network is unavailable except loopback: no name resolves but these.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        f"--window-size={size[0]},{size[1]}",
        f"--lang={lang}",
    ):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return options


@pytest.fixture(scope="session")
def browser_factory() -> Iterator[Factory]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed: run `make tools`")
    opened: list[WebDriver] = []

    def make(size: Size = DESKTOP, lang: str = "es") -> WebDriver:
        driver = webdriver.Chrome(options=_options(size, lang), service=Service(CHROMEDRIVER))
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        set_viewport(driver, size)
        opened.append(driver)
        return driver

    yield make
    for driver in opened:
        driver.quit()


@pytest.fixture(scope="session")
def browser(browser_factory: Factory) -> WebDriver:
    return browser_factory()


@pytest.fixture(scope="session")
def site(stack: Stack) -> str:
    return stack.api_url


def set_viewport(driver: WebDriver, size: Size) -> None:
    """The page's viewport exactly `size` CSS pixels (a phone size also emulates touch)."""
    width, height = size
    mobile = width < 600
    driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": mobile})  # type: ignore[attr-defined]


def take_screenshot(driver: WebDriver, name: str, size: Size = DESKTOP) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    set_viewport(driver, size)
    driver.execute_script(
        "return new Promise(r => requestAnimationFrame(() => setTimeout(r, 150)))"
    )
    path = SCREENSHOTS / f"{name}-{size[0]}x{size[1]}.png"
    assert driver.save_screenshot(str(path)), path
    return path


@pytest.fixture
def screenshot() -> Callable[[WebDriver, str, Size], Path]:
    return take_screenshot


def run_axe(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core's violations on the current page (WCAG 2 A/AA and best practices)."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(function (r) { done(JSON.stringify(r.violations)); },"
        " function (e) { done(JSON.stringify([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}])); });"
    )
    violations: list[dict[str, Any]] = json.loads(result)
    return violations


def check_axe(driver: WebDriver) -> list[dict[str, Any]]:
    """Fails on serious or critical violations; returns the minor ones."""
    violations = run_axe(driver)
    bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
    assert not bad, json.dumps(
        [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n.get("html", "")[:200] for n in v.get("nodes", [])[:5]],
            }
            for v in bad
        ],
        indent=1,
    )
    return violations


@pytest.fixture
def axe_check() -> Callable[[WebDriver], list[dict[str, Any]]]:
    return check_axe


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = 15) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def console_errors(driver: WebDriver, *, http: bool = False) -> list[str]:
    """SEVERE console messages: script errors and CSP refusals (HTTP error statuses the
    page expects, e.g. a 409 it shows kindly, only with `http=True`)."""
    return [
        str(entry["message"])
        for entry in driver.get_log("browser")  # type: ignore[no-untyped-call]
        if entry.get("level") == "SEVERE"
        and (http or "the server responded with a status of" not in str(entry["message"]))
    ]


def offsite_requests(driver: WebDriver) -> list[str]:
    """URLs the page sent outside loopback (http, https, ws), from the performance log.

    A request the page's CSP refused (ReDoc's footer logo on cdn.redoc.ly) never left the
    browser, so it does not count."""
    sent: dict[str, str] = {}
    refused: set[str] = set()
    for entry in driver.get_log("performance"):  # type: ignore[no-untyped-call]
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            sent[str(params["requestId"])] = str(params["request"]["url"])
        elif message.get("method") == "Network.loadingFailed" and params.get("blockedReason"):
            refused.add(str(params["requestId"]))
    return [
        url
        for request_id, url in sent.items()
        if request_id not in refused
        and urlsplit(url).scheme in ("http", "https", "ws", "wss")
        and urlsplit(url).hostname not in LOOPBACK
    ]
