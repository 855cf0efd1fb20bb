"""The benchmark loads the API the way a branch's kiosk does: each phase registers a
branch and issues a kiosk token for it (straight in the database, as setup), then sends
`X-Kiosk-Token` with every ticket, so the figures are under the kiosk rate limit
(`KIOSK_TICKET_RATE_LIMIT`) and not the per-address one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import create_async_engine

from db import kiosks
from db.branches import create_branch

TIME_ZONE = "America/Santiago"


@dataclass(frozen=True)
class Kiosk:
    branch: str
    headers: dict[str, str]


class KioskIssuer:
    """Registers bench branches and their kiosks in the stack's database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def new(self) -> Kiosk:
        branch = f"Bench {uuid.uuid4().hex[:8]}"
        engine = create_async_engine(self.database_url, pool_size=1)
        try:
            async with engine.begin() as conn:
                row = await create_branch(conn, branch, TIME_ZONE)
                assert row is not None
                _, token = await kiosks.issue(conn, row.id, "bench", "bench")
        finally:
            await engine.dispose()
        return Kiosk(branch, {"X-Kiosk-Token": token})
