"""Limits on what one client can make the API do: body size, who the client is, and how
many tickets it may take.

- `BodySizeLimitMiddleware` (ASGI): a body larger than `MAX_BODY_BYTES` is a 413 in the
  project's error shape, whether it announces its length (`Content-Length`, refused before
  reading) or streams it (chunked; counted as it arrives, refused once past the limit).
- The client address: the connection's peer, or, only when that peer is one of
  `TRUSTED_PROXIES` (IPs or CIDRs; none by default), the address the balancer put in
  `X-Forwarded-For` (uvicorn's own proxy-header middleware, fed with our setting; the
  server is started with `--no-proxy-headers` so nothing else rewrites the client).
- `TicketRateLimits`: ticket creations per client address (`TICKET_RATE_LIMIT`) and per
  kiosk (`KIOSK_TICKET_RATE_LIMIT`), moving windows kept in memory by the `limits`
  package. In memory means per API process: behind N replicas a client gets up to N
  times the limit (the balancer spreads its requests), which is the accepted trade-off.
"""

from __future__ import annotations

import json
import math

from fastapi import FastAPI, Request
from limits import RateLimitItem, parse_many
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.errors import ApiError, error_body, scope_message
from api.moving_windows import MovingWindows, Window
from settings import Settings

__all__ = [
    "BodySizeLimitMiddleware",
    "BodyTooLarge",
    "TicketRateLimits",
    "client_address",
    "install_limits",
    "parse_trusted_proxies",
]


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit (FastAPI lets an
    HTTPException out of body parsing, so the app's handler renders the 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body larger than {limit} bytes")


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        # No `Connection: close`: the server then reads and drops the rest of the body
        # instead of resetting a connection the client is still writing to, which would
        # lose this answer; nothing of the body is kept.
        body = json.dumps(
            error_body(
                413, scope_message(scope, "http.413", max_bytes=self.max_bytes), scope["path"]
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def parse_trusted_proxies(raw: str) -> list[str]:
    """`TRUSTED_PROXIES` as a list; `*` (trust anyone) is refused: it lets any client
    choose the address its limits are counted against."""
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if "*" in items:
        raise ValueError("TRUSTED_PROXIES must list addresses or networks, not '*'")
    return items


def client_address(request: Request) -> str:
    """The client's address as the limits see it (after trusted-proxy resolution)."""
    return request.client.host if request.client else "unknown"


class TicketRateLimits:
    """Moving-window limits on ticket creation, per address and per kiosk (the settings in
    `limits` notation, counted by api.moving_windows: no timer thread per request)."""

    def __init__(self, per_address: str, per_kiosk: str) -> None:
        self.per_address = _windows(parse_many(per_address))
        self.per_kiosk = _windows(parse_many(per_kiosk))
        self._windows = MovingWindows()

    def admit_address(self, address: str) -> None:
        self._admit(self.per_address, f"address/{address}")

    def admit_kiosk(self, kiosk_id: int) -> None:
        self._admit(self.per_kiosk, f"kiosk/{kiosk_id}")

    def _admit(self, windows: list[Window], key: str) -> None:
        """Count one creation, or a 429 with `Retry-After` when a window is full."""
        wait = self._windows.hit(windows, key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise ApiError(
                429,
                "ticket.rate_limited",
                params={"seconds": seconds},
                headers={"Retry-After": str(seconds)},
            )


def _windows(items: list[RateLimitItem]) -> list[Window]:
    return [Window(item.amount, float(item.get_expiry())) for item in items]


def ticket_limits(request: Request) -> TicketRateLimits:
    found: TicketRateLimits = request.app.state.ticket_limits
    return found


def install_limits(app: FastAPI, settings: Settings) -> None:
    """Body size and client-address middlewares, and the ticket rate limits. Call it
    after the other middlewares so the client address is resolved first of all."""
    app.state.ticket_limits = TicketRateLimits(
        settings.ticket_rate_limit, settings.kiosk_ticket_rate_limit
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    proxies = parse_trusted_proxies(settings.trusted_proxies)
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
