"""`/kiosk/{branch}`: a customer takes a number (queue, RUT, then the ticket with its QR).

The page posts to `POST /api/tickets` itself (static/kiosk.js); a kiosk device sends the
token a supervisor issued (`#token=…` once in the URL, then localStorage) as
`X-Kiosk-Token`. Queue counts and estimates: `GET /api/public/branches/{branch}/queues`.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ResourcesDep
from api.errors import ApiError
from api.pages.render import render
from api.services import public

router = APIRouter(include_in_schema=False)
log = logging.getLogger("ticketero.api.pages")


async def branch_or_page(
    request: Request, res: ResourcesDep, branch: str, page: str
) -> public.PublicBranch | HTMLResponse:
    """The branch's public figures, or the page saying it is unknown or unreachable."""
    try:
        return await public.branch_queues(res, branch[:200])
    except ApiError as err:
        if err.status != 404:
            raise
        return render(
            request, "missing.html", status_code=404, body_class=page, branch=branch[:100]
        )
    except (SQLAlchemyError, OSError) as err:
        log.warning("branch figures unavailable: %s", type(err).__name__)
        return render(request, "missing.html", status_code=503, body_class=page, branch=None)


@router.get("/kiosk/{branch}", response_class=HTMLResponse)
async def kiosk(branch: str, request: Request, res: ResourcesDep) -> HTMLResponse:
    found = await branch_or_page(request, res, branch, "page-kiosk")
    if isinstance(found, HTMLResponse):
        return found
    return render(
        request,
        "kiosk.html",
        js=("kiosk.", "queue."),
        branch=found.branch_office,
        queues=found.queues,
        queues_url=f"/api/public/branches/{quote(found.branch_office, safe='')}/queues",
    )
