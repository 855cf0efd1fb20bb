"""The weekly and monthly database routines: ANALYZE, REINDEX, purge of old messages,
size, VACUUM FULL. Safe to retry: each is a read, a rebuild or a DELETE by age."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from ops.activities.heartbeat import heartbeating
from ops.activities.maintenance import finished_step, now
from ops.contracts import (
    DB_ANALYZE,
    DB_PURGE_MESSAGES,
    DB_REINDEX,
    DB_SIZE,
    DB_VACUUM_FULL,
    Step,
)

MESSAGE_RETENTION_DAYS = 30


class DatabaseMaintenanceActivities:
    """Holds the engine of the application database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _autocommit(self, sql: str) -> None:
        """Statements that refuse a transaction block (VACUUM, REINDEX DATABASE)."""
        async with self._engine.connect() as raw:
            conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))

    async def _size(self) -> int:
        async with self._engine.connect() as conn:
            size = await conn.execute(text("SELECT pg_database_size(current_database())"))
            return int(size.scalar_one())

    async def _database(self) -> str:
        async with self._engine.connect() as conn:
            return str((await conn.execute(text("SELECT current_database()"))).scalar_one())

    @activity.defn(name=DB_ANALYZE)
    async def analyze(self) -> Step:
        started = now()
        await heartbeating(self._autocommit("ANALYZE"), step="analyze")
        return finished_step("analyze", "ok", "planner statistics refreshed", started)

    @activity.defn(name=DB_REINDEX)
    async def reindex(self) -> Step:
        """REINDEX DATABASE of the app database (the app role owns it)."""
        started = now()
        name = await self._database()
        quoted = '"' + name.replace('"', '""') + '"'
        await heartbeating(self._autocommit(f"REINDEX DATABASE {quoted}"), step="reindex")
        return finished_step(
            "reindex", "ok", f"indexes of {name} rebuilt", started, {"database": name}
        )

    @activity.defn(name=DB_PURGE_MESSAGES)
    async def purge_messages(self) -> Step:
        """Delete customer messages older than 30 days (their delivery is long settled)."""
        started = now()
        async with self._engine.begin() as conn:
            deleted = (
                await conn.execute(
                    text(
                        "DELETE FROM mensaje WHERE created_at < now() - make_interval(days => :d)"
                    ),
                    {"d": MESSAGE_RETENTION_DAYS},
                )
            ).rowcount
        return finished_step(
            "purge_messages",
            "ok",
            f"{deleted} message(s) older than {MESSAGE_RETENTION_DAYS} days deleted",
            started,
            {"deleted": deleted, "older_than_days": MESSAGE_RETENTION_DAYS},
        )

    @activity.defn(name=DB_SIZE)
    async def db_size(self) -> Step:
        started = now()
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT current_database() AS name, pg_database_size(current_database())"
                        " AS bytes, pg_size_pretty(pg_database_size(current_database())) AS pretty"
                    )
                )
            ).one()
        return finished_step(
            "db_size",
            "ok",
            f"{row.name}: {row.pretty}",
            started,
            {"database": row.name, "bytes": int(row.bytes), "pretty": row.pretty},
        )

    @activity.defn(name=DB_VACUUM_FULL)
    async def vacuum_full(self) -> Step:
        """VACUUM FULL: rewrites tables (exclusive locks), hence the monthly night slot."""
        started = now()
        before = await self._size()
        await heartbeating(self._autocommit("VACUUM FULL"), step="vacuum_full")
        after = await self._size()
        return finished_step(
            "vacuum_full",
            "ok",
            f"{before - after} bytes reclaimed",
            started,
            {"bytes_before": before, "bytes_after": after},
        )
