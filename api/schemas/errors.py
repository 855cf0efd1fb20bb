"""The one error body every non-2xx JSON answer of the API has (built by api.errors)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    field: str = Field(description="the offending field: a body key, query or path parameter")
    message: str


class ErrorBody(BaseModel):
    """`status` is always the HTTP status; some errors add keys of their own (a 409's
    `activeTicket`, an unknown branch's `branches`), never replacing these."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "status": 404,
                "error": "Not Found",
                "message": "No ticket with reference 0b6f…",
                "path": "/api/tickets/0b6f…",
                "timestamp": "2025-01-31T12:00:00+00:00",
            }
        },
    )

    status: int = Field(ge=400, le=599, description="the HTTP status, repeated")
    error: str = Field(description="the status's reason phrase")
    message: str = Field(description="what went wrong, for a person")
    path: str = Field(description="the request path")
    timestamp: datetime
    errors: list[FieldError] = Field(
        default_factory=list, description="one entry per offending field (422, some 400/404)"
    )
