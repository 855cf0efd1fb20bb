"""The benchmark loads the API the way a branch's kiosk does: each phase registers a
branch and issues a kiosk token for it (straight in the database, as setup), then sends
`X-Kiosk-Token` with every ticket, so the figures are under the kiosk rate limit
(`KIOSK_TICKET_RATE_LIMIT`) and not the per-address one. A phase's branch gets several
kiosks, used in turn, as a busy branch has: the load is spread over their limits."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import create_async_engine

from db import kiosks
from db.branches import create_branch

TIME_ZONE = "America/Santiago"
KIOSKS_PER_BRANCH = 32


@dataclass
class Kiosk:
    """A branch and its kiosks' tokens; `headers` names the next kiosk in turn."""

    branch: str
    tokens: list[str]
    _turn: Iterator[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(self.tokens)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Kiosk-Token": next(self._turn)}


class KioskIssuer:
    """Registers bench branches and their kiosks in the stack's database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def new(self) -> Kiosk:
        branch = f"Bench {uuid.uuid4().hex[:8]}"
        engine = create_async_engine(self.database_url, pool_size=1)
        try:
            async with engine.begin() as conn:
                row = await create_branch(conn, branch, TIME_ZONE, open_all_hours=True)
                assert row is not None
                tokens = [
                    (await kiosks.issue(conn, row.id, f"bench {i}", "bench"))[1]
                    for i in range(KIOSKS_PER_BRANCH)
                ]
        finally:
            await engine.dispose()
        return Kiosk(branch, tokens)
