"""Process-wide clients of the API, created in the lifespan (after any fork)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from settings import Settings
from workflows.client import connect_temporal


class TemporalUnavailable(Exception):
    """Temporal could not be reached; the API answers 503 with Retry-After (api.errors)."""


@dataclass
class TemporalHolder:
    """Connects on first use, so the API starts (and reports DOWN) while Temporal is away."""

    settings: Settings
    _client: Client | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await asyncio.wait_for(connect_temporal(self.settings), 5)
                    except (OSError, RuntimeError, TimeoutError) as err:
                        raise TemporalUnavailable(type(err).__name__) from err
        return self._client


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    temporal: TemporalHolder
