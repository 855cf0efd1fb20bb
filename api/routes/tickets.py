"""Public ticket endpoints: take a ticket, look it up, follow its position."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from api.deps import ResourcesDep
from api.error_docs import errors
from api.errors import ApiError
from api.limits import client_address, ticket_limits
from api.metrics import tickets_created
from api.schemas.tickets import CreateTicketRequest, PositionResponse, TicketResponse
from api.services import branches, health
from api.services import tickets as service
from api.services.links import qr_png, telegram_link

router = APIRouter(prefix="/api/tickets", tags=["tickets"])


@router.post(
    "",
    status_code=201,
    response_model=TicketResponse,
    response_model_by_alias=True,
    # 401/403: a kiosk token that is unknown, revoked or of another branch.
    responses=errors(401, 403, 404, 409, 429),
)
async def create_ticket(
    body: CreateTicketRequest,
    res: ResourcesDep,
    response: Response,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    kiosk_token: Annotated[
        str | None, Header(alias="X-Kiosk-Token", max_length=200, description="a kiosk's token")
    ] = None,
) -> TicketResponse:
    """Take a ticket at a registered branch (404 listing the branches otherwise). Retrying
    with the same `Idempotency-Key` returns the same ticket. Rate limited per client
    address (429 with `Retry-After`); a kiosk sending its token has its own limit. Outside
    the branch's hours a 409 names the next opening (`nextOpening`)."""
    key = service.validate_idempotency_key(idempotency_key)
    await branches.admit_ticket(
        res, ticket_limits(request), client_address(request), kiosk_token, body.branch_office
    )
    await branches.require_branch(res, body.branch_office)
    await branches.require_open(res, body.branch_office)
    await health.require(res, "db", "temporal")  # fail fast: its workflow needs both
    outcome = await service.create_ticket(res, body, key)
    if outcome.created:
        tickets_created.labels(queue=outcome.ticket.queue).inc()
    else:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/tickets/{outcome.ticket.reference}"
    return TicketResponse.of(outcome.ticket, telegram_link(res.settings, outcome.ticket.reference))


@router.get("/{reference}", response_model=TicketResponse, response_model_by_alias=True)
async def get_ticket(reference: uuid.UUID, res: ResourcesDep) -> TicketResponse:
    view = await service.get_ticket(res, reference)
    return TicketResponse.of(view, telegram_link(res.settings, view.reference))


@router.get(
    "/{reference}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def ticket_qr(reference: uuid.UUID, res: ResourcesDep) -> Response:
    """QR code of the ticket's Telegram deep link (scan it to follow the turn)."""
    view = await service.get_ticket(res, reference)
    png = qr_png(telegram_link(res.settings, view.reference))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{number}/position", response_model=PositionResponse, response_model_by_alias=True)
async def get_position(
    number: str,
    res: ResourcesDep,
    branch_office: Annotated[str, Query(alias="branchOffice", min_length=1, max_length=100)],
) -> PositionResponse:
    """Today's ticket with this number at the branch: its place and estimated wait."""
    if not branch_office.isprintable():
        raise ApiError(422, "text.control_chars", field="branchOffice")
    if not (number.isprintable() and len(number) <= 16):
        raise ApiError(
            404,
            "ticket.number_not_found",
            params={"number": repr(number[:16]), "branch": repr(branch_office)},
        )
    view = await service.get_by_number(res, number, branch_office)
    return PositionResponse.of(view)
