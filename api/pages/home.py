"""`/`: the pages of the application and a branch picker (branch names only)."""

from __future__ import annotations

import logging
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ResourcesDep
from api.pages.i18n import LANGUAGES
from api.pages.render import render
from api.services import public

router = APIRouter(include_in_schema=False)
log = logging.getLogger("ticketero.api.pages")


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, res: ResourcesDep) -> HTMLResponse:
    try:
        branches: list[str] | None = await public.branch_names(res)
    except (SQLAlchemyError, OSError) as err:
        log.warning("branch names unavailable: %s", type(err).__name__)
        branches = None
    return render(request, "home.html", body_class="page-home", branches=branches)


@router.get("/go")
async def go(
    branch: Annotated[str, Query(min_length=1, max_length=100)],
    page: Annotated[Literal["kiosk", "display"], Query()] = "kiosk",
    lang: Annotated[str | None, Query(max_length=5)] = None,
) -> RedirectResponse:
    """The branch picker's form: to the chosen page of the chosen branch."""
    keep = f"?lang={lang}" if lang in LANGUAGES else ""
    return RedirectResponse(f"/{page}/{quote(branch, safe='')}{keep}", status_code=303)
