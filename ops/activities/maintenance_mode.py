"""The maintenance switch as activities: a restore turns it on before replacing the
database and off at the end. The guard ticket activities call while it is on is
`activities/maintenance_mode.py` (`ensure_writable`), on the ticket path.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from db import ops
from ops.contracts import MAINTENANCE_ENTER, MAINTENANCE_LEAVE, MaintenanceSwitch, Step


class MaintenanceModeActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name=MAINTENANCE_ENTER)
    async def enter(self, switch: MaintenanceSwitch) -> Step:
        """Refuse API writes (503) and hold ticket writes until `leave`."""
        state = await ops.set_maintenance(self._engine, True, switch.reason)
        return Step(
            name="maintenance_on",
            outcome="ok",
            detail=f"maintenance mode on: {switch.reason}",
            figures={"changed_at": state.changed_at.isoformat() if state.changed_at else None},
        )

    @activity.defn(name=MAINTENANCE_LEAVE)
    async def leave(self) -> Step:
        """Accept writes again; safe to repeat."""
        await ops.set_maintenance(self._engine, False)
        return Step(name="maintenance_off", outcome="ok", detail="maintenance mode off")
