"""`POST /api/telegram/webhook`: Telegram's pushes, authenticated and queued for the bridge.

Telegram echoes the secret given to setWebhook in a header; anything without
it is refused (401), and with no secret configured the endpoint is off (503).
The route only enqueues the raw update (persistent, publisher-confirmed) so it
answers fast; the bridge handles it exactly like a polled update. A failed
publish is a 503, which Telegram retries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from api.deps import ResourcesDep
from api.services.telegram_updates import UpdatePublisher, check_secret, queue_update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    publisher = UpdatePublisher()
    app.state.telegram_updates = publisher
    try:
        yield
    finally:
        await publisher.close()


router = APIRouter(prefix="/api/telegram", tags=["telegram"], lifespan=_lifespan)


@router.post("/webhook", include_in_schema=False)
async def webhook(
    request: Request,
    res: ResourcesDep,
    secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
) -> JSONResponse:
    """Accept one update from Telegram and queue it for the bridge."""
    check_secret(res.settings, secret)
    publisher: UpdatePublisher = request.app.state.telegram_updates
    await queue_update(res.settings, publisher, await request.body())
    return JSONResponse({"ok": True})
