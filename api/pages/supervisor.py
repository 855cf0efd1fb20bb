"""`/supervisor`: the branch live (queues, advisors, alerts), a ticket's history by its
number with each message's delivery state, and the branch's advisors to manage.

Like the console, a static page whose script logs in with the JWT auth and reads the
supervision and management API (`/api/branches/{branch}/...`, `/api/advisors`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.pages.render import render
from domain.queues import QueueName

router = APIRouter(include_in_schema=False)


@router.get("/supervisor", response_class=HTMLResponse)
async def supervisor_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "supervisor.html",
        js=(
            "staff.",
            "supervisor.",
            "queue.",
            "status.",
            "ticket_status.",
            "action.",
            "message.",
            "message_state.",
            "alert.",
        ),
        queues=[q.value for q in QueueName],
    )
