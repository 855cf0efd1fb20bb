"""`/display/{branch}`: the waiting-room board (last calls, waiting per queue), live from
the public display feed `GET /api/branches/{branch}/display/events` (static/board.js)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import ResourcesDep
from api.pages.kiosk import branch_or_page
from api.pages.render import render

router = APIRouter(include_in_schema=False)


@router.get("/display/{branch}", response_class=HTMLResponse)
async def board(branch: str, request: Request, res: ResourcesDep) -> HTMLResponse:
    found = await branch_or_page(request, res, branch, "page-board")
    if isinstance(found, HTMLResponse):
        return found
    return render(
        request,
        "display.html",
        js=("board.", "queue."),
        branch=found.branch_office,
        queues=found.queues,
        feed_url=f"/api/branches/{quote(found.branch_office, safe='')}/display/events",
    )
