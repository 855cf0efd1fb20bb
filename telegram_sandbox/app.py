"""Application factory wiring state, Bot API, sandbox API, web page and webhook worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from telegram_sandbox.botapi import BotApi, bot_router
from telegram_sandbox.sandbox_api import sandbox_router
from telegram_sandbox.state import SandboxState
from telegram_sandbox.web import STATIC_DIR, web_router
from telegram_sandbox.webhook import RetryPolicy, run_webhook_worker

WEBHOOK_TIMEOUT_SECONDS = 5.0


async def _bad_request(request: Request, exc: Exception) -> JSONResponse:
    """Sandbox API input errors are plain 400s (callers are tests, not forms)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else str(exc)
    return JSONResponse({"detail": errors}, status_code=400)


def create_app(
    token: str,
    bot_username: str,
    *,
    webhook_retry: RetryPolicy | None = None,
    time_zone: str = "America/Santiago",
) -> FastAPI:
    """Build a sandbox accepting `token`, posing as `@bot_username`."""
    state = SandboxState()
    api = BotApi(state, token, bot_username)
    policy = webhook_retry or RetryPolicy()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS) as client:
            worker = asyncio.create_task(run_webhook_worker(state, client, policy))
            try:
                yield
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    app = FastAPI(
        title="Ticketero Telegram sandbox",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI needs a CDN; the machine may be offline.
        redoc_url=None,
        exception_handlers={RequestValidationError: _bad_request},
    )
    app.state.sandbox = state
    app.include_router(bot_router(api))
    app.include_router(sandbox_router(state, api))
    app.include_router(web_router(state, bot_username, time_zone))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
