"""The baseline the stack is measured against: the same creation, straight to PostgreSQL.

A tiny FastAPI app (run by uvicorn as its own process, on its own port, so its CPU is
counted apart from the load generator's) that validates the body with the API's own
schema, builds the ticket as the API does and runs the very transaction the creation
activity runs (`db.tickets.create_ticket`: counter row, ticket row, audit event) through
SQLAlchemy on asyncpg. No Temporal, no kiosk token, no rate limit, no notification:
what is left between it and the stack is the orchestration's cost.
Run: `DATABASE_URL=... python -m uvicorn bench.baseline:app --port N`.
"""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from api.schemas.tickets import CreateTicketRequest
from api.services.tickets import build_new_ticket
from db.engine import make_engine
from db.tickets import create_ticket
from settings import get_settings

settings = get_settings()
engine = make_engine(settings)
app = FastAPI(title="bench baseline")


@app.get("/actuator/health")
async def health() -> dict[str, str]:
    return {"status": "UP"}


@app.post("/api/tickets", status_code=201)
async def create(req: CreateTicketRequest) -> JSONResponse:
    new = build_new_ticket(req, uuid.uuid4(), settings.national_id_key.get_secret_value())
    outcome = await create_ticket(engine, new, settings.default_time_zone)
    if outcome.ticket is None or outcome.conflicting is not None:
        return JSONResponse({"error": "conflict"}, status_code=409)
    return JSONResponse(outcome.ticket.model_dump(mode="json", by_alias=True), status_code=201)
