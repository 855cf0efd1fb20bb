"""FastAPI dependencies: typed access to the lifespan's resources."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.resources import Resources


async def get_resources(request: Request) -> Resources:
    """Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a
    thread hop per request for an attribute read."""
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]
