"""`/docs` (Swagger UI) and `/redoc` from the assets the `fastapi-offline` package ships.

Our own HTML with an external start-up script (`static/docs-init.js`): no CDN and no
inline script, so the docs CSP (api/security_headers.py) allows same-origin scripts only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.pages.render import render

router = APIRouter(include_in_schema=False)
ASSETS_URL: Final = "/docs/assets"
ASSETS_DIR: Final = Path(fastapi_offline.__file__).parent / "static"


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return render(request, "docs.html", assets=ASSETS_URL, openapi_url=request.app.openapi_url)


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    return render(request, "redoc.html", assets=ASSETS_URL, openapi_url=request.app.openapi_url)
