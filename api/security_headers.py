"""HTTP hardening middleware: security headers on every response, and opt-in CORS.

Pure ASGI (no BaseHTTPMiddleware), so server-sent event streams pass through
untouched: only the response-start message gains headers. The `server` banner
is uvicorn's and is switched off on its command line (`--no-server-header`).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from settings import Settings

#: Server-rendered pages with same-origin scripts, styles and images only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
#: /docs (Swagger UI) and /redoc load the assets the fastapi-offline package ships, from
#: this origin (api.pages.docs) with an external start-up script; their renderers inject
#: <style> elements (hence 'unsafe-inline' styles) and ReDoc runs a blob: worker.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; img-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
DOCS_PATHS = ("/docs", "/redoc")
#: One year, subdomains included; sent only when the public URL is https.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
#: Request headers a browser page on an allowed origin may send.
CORS_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Request-Id")


def security_headers(settings: Settings) -> dict[str, str]:
    """Headers every response carries (the CSP is chosen per path)."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
    if settings.public_base_url.lower().startswith("https://"):
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return headers


def is_docs_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in DOCS_PATHS)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response; a route's own value wins."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = security_headers(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = is_docs_path(scope["path"])
        csp = DOCS_CONTENT_SECURITY_POLICY if docs else CONTENT_SECURITY_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_origins(settings: Settings) -> list[str]:
    return [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]


class ConfigurableCORSMiddleware:
    """Starlette's CORSMiddleware for the CORS_ORIGINS origins; a pass-through when empty.

    Browsers then apply the same-origin policy (no Access-Control-* headers at all).
    Tokens travel in the Authorization header, never in cookies: no credentials mode.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        origins: Sequence[str] = cors_origins(settings)
        self.app: ASGIApp = (
            CORSMiddleware(
                app,
                allow_origins=origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=list(CORS_HEADERS),
                expose_headers=["Retry-After", "Location", "X-Request-Id"],
                max_age=600,
            )
            if origins
            else app
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
