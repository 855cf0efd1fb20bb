"""The pages people use at a branch, served by the API process (no CDN, no build step).

Layout (see README "Pages"):

- one module per page (`home.py`, `kiosk.py`, `display.py`, `docs.py`, ...), each with an
  `APIRouter` named `router` (routes `include_in_schema=False`); `PAGE_ROUTERS` below
  lists them and `router` includes them all;
- templates in `templates/` extending `base.html` (api.pages.render);
- texts in `messages/es.json` and `messages/en.json` (api.pages.i18n);
- one stylesheet and small plain scripts in `static/`, served at `/static`.

`install(app)` mounts the static files (ours at `/static`, the packaged Swagger UI and
ReDoc assets at `/docs/assets`) and includes `router`.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import advisor, display, docs, home, kiosk, supervisor
from api.pages.render import STATIC_DIR, STATIC_URL

PAGE_ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    kiosk.router,
    display.router,
    advisor.router,
    supervisor.router,
    docs.router,
)

router = APIRouter(include_in_schema=False)
for _page in PAGE_ROUTERS:
    router.include_router(_page)


def install(app: FastAPI) -> None:
    """Serve the pages: static files first, then the page routes."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.ASSETS_DIR), name="docs-assets")
    app.include_router(router)
