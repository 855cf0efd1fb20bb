"""Security headers on every response, no server banner, CORS off unless configured."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.security_headers import ConfigurableCORSMiddleware, SecurityHeadersMiddleware
from settings import Settings

STRICT_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
ORIGIN = "https://evil.example"


def assert_hardened(resp: httpx.Response, csp: str | None = STRICT_CSP) -> None:
    for name, value in COMMON.items():
        assert resp.headers.get(name) == value, (resp.request.url, name)
    if csp is not None:
        assert resp.headers.get("content-security-policy") == csp, resp.request.url
    assert "server" not in resp.headers, resp.headers.get("server")


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/actuator/health/liveness"),
        ("GET", "/openapi.json"),
        ("GET", "/no/such/page"),  # 404
        ("POST", "/api/tickets"),  # 422
        ("GET", "/api/branches"),  # 401
    ],
)
async def test_every_response_is_hardened(api: httpx.AsyncClient, method: str, path: str) -> None:
    resp = await api.request(method, path, headers={"Origin": ORIGIN})
    assert resp.status_code < 500
    assert_hardened(resp)
    assert "strict-transport-security" not in resp.headers  # the test stack is plain http
    assert not any(h.startswith("access-control-") for h in resp.headers)


@pytest.mark.e2e
async def test_cors_is_off_by_default(api: httpx.AsyncClient) -> None:
    preflight = await api.options(
        "/api/tickets",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert not any(h.startswith("access-control-") for h in preflight.headers)


@pytest.mark.e2e
@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_api_docs_load_same_origin_assets_only(api: httpx.AsyncClient, path: str) -> None:
    """Swagger UI and ReDoc come from the fastapi-offline package: no CDN, no inline script."""
    resp = await api.get(path)
    assert resp.status_code == 200
    assert_hardened(resp, csp=None)
    policy = dict(
        (d.split()[0], d.split()[1:])
        for d in resp.headers["content-security-policy"].split(";")
        if d.strip()
    )
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no other host
    sources = [s for values in policy.values() for s in values]
    assert not [s for s in sources if "." in s or s.startswith("http")], policy
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", resp.text), "an inline script"
    assets = [(url, "script-src") for url in re.findall(r'<script[^>]*\ssrc="([^"]+)"', resp.text)]
    for tag in re.findall(r"<link[^>]*>", resp.text):
        rel, href = re.search(r'rel="([^"]+)"', tag), re.search(r'href="([^"]+)"', tag)
        assert rel and href, tag
        assets.append((href.group(1), "style-src" if rel.group(1) == "stylesheet" else "img-src"))
    assert any(d == "script-src" for _, d in assets), "the page loads its script"
    for url, _directive in assets:
        assert not urlsplit(url).netloc, (path, url)
        asset = await api.get(url)
        assert asset.status_code == 200 and asset.content, url


def tiny_app(**settings: str) -> httpx.AsyncClient:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hi")

    cfg = Settings(_env_file=None, **settings)  # type: ignore[call-arg, arg-type]
    app = Starlette(routes=[Route("/hello", hello, methods=["GET", "POST"])])
    app.add_middleware(ConfigurableCORSMiddleware, settings=cfg)
    app.add_middleware(SecurityHeadersMiddleware, settings=cfg)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_hsts_only_when_the_public_url_is_https() -> None:
    async with tiny_app(public_base_url="http://localhost:8080") as client:
        plain = await client.get("/hello")
    assert "strict-transport-security" not in plain.headers
    async with tiny_app(public_base_url="https://tickets.bank.example") as client:
        tls = await client.get("/hello")
    assert tls.headers["strict-transport-security"].startswith("max-age=31536000")
    assert_hardened(tls)


async def test_cors_answers_only_the_configured_origins() -> None:
    async with tiny_app(cors_origins="https://kiosk.bank.example, https://web.bank.example") as c:
        allowed = await c.options(
            "/hello",
            headers={
                "Origin": "https://web.bank.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Idempotency-Key",
            },
        )
        simple = await c.get("/hello", headers={"Origin": "https://kiosk.bank.example"})
        other = await c.get("/hello", headers={"Origin": ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://web.bank.example"
    assert "access-control-allow-credentials" not in allowed.headers
    assert_hardened(allowed)
    assert simple.headers["access-control-allow-origin"] == "https://kiosk.bank.example"
    assert "access-control-allow-origin" not in other.headers
    async with tiny_app() as client:
        off = await client.get("/hello", headers={"Origin": ORIGIN})
    assert not any(h.startswith("access-control-") for h in off.headers)
