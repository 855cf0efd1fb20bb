"""`/advisor`: the advisor's console (log in, desk and status, the ticket in hand, actions).

The page is the same for everyone; the script logs in with the JWT auth
(`POST /api/auth/token`), keeps the token in sessionStorage (a reload keeps the session,
closing the tab ends it) and drives the desk API (`/api/advisors/me`, ticket actions).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.pages.render import render
from domain.queues import QueueName

router = APIRouter(include_in_schema=False)


@router.get("/advisor", response_class=HTMLResponse)
async def advisor_console(request: Request) -> HTMLResponse:
    return render(
        request,
        "advisor.html",
        js=("staff.", "advisor.", "queue.", "status.", "ticket_status."),
        queues=[q.value for q in QueueName],
    )
