"""The actuator endpoints the runbook curls without credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import ResourcesDep
from api.services import actuator
from api.services.health import health

router = APIRouter(prefix="/actuator", tags=["actuator"])

#: The health report, UP (200) or naming the component DOWN (503, the same shape).
HEALTH_REPORT = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["UP", "DOWN"]},
        "components": {"type": "object"},
    },
    "required": ["status"],
}
#: The 503 is the report, or the error body when the API itself cannot answer.
HEALTH: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": HEALTH_REPORT}}},
    503: {
        "description": "a component is DOWN: the same report",
        "content": {
            "application/json": {
                "schema": {"anyOf": [HEALTH_REPORT, {"$ref": "#/components/schemas/ErrorBody"}]}
            }
        },
    },
}


def _answer(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=200 if body["status"] == "UP" else 503)


@router.get("/health", responses=HEALTH)
async def overall(res: ResourcesDep) -> JSONResponse:
    """UP only when PostgreSQL, RabbitMQ and Temporal all answer; 503 names the one DOWN."""
    return _answer(await health(res, ("db", "rabbit", "temporal")))


@router.get("/health/liveness")
async def liveness() -> dict[str, str]:
    """The process runs its event loop; nothing external is checked."""
    return {"status": "UP"}


@router.get("/health/readiness", responses=HEALTH)
async def readiness(res: ResourcesDep) -> JSONResponse:
    """Ready to take tickets: the database and Temporal answer."""
    return _answer(await health(res, ("db", "temporal")))


@router.get("/info")
async def info(res: ResourcesDep) -> dict[str, Any]:
    return actuator.info(res)


@router.get(
    "/prometheus",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def prometheus(res: ResourcesDep) -> Response:
    return Response(await actuator.scrape(res), media_type=CONTENT_TYPE_LATEST)
