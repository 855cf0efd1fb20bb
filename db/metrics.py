"""Cluster-wide counters and histograms kept in PostgreSQL (`metric_counter`).

Business events happen in whichever process runs the activity or the bridge;
recording them in the same transaction as the event makes each one count
exactly once, and lets every API replica export the same figures.
Labels are stored as one string, `key=value`; histogram buckets are stored
per bucket (not cumulative) with the bound appended as `;le=<bound>`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

#: Upper bounds (seconds) of each histogram kept in the database.
HISTOGRAMS: dict[str, tuple[float, ...]] = {
    "telegram_delivery_seconds": (
        0.05,
        0.1,
        0.25,
        0.5,
        1.0,
        2.5,
        5.0,
        10.0,
        30.0,
        60.0,
        120.0,
        300.0,
    ),
    "ticket_wait_seconds": (
        60.0,
        120.0,
        300.0,
        600.0,
        900.0,
        1200.0,
        1800.0,
        2700.0,
        3600.0,
        5400.0,
        7200.0,
    ),
    "ticket_service_seconds": (
        30.0,
        60.0,
        120.0,
        300.0,
        600.0,
        900.0,
        1200.0,
        1800.0,
        2700.0,
        3600.0,
    ),
}


def bucket_of(name: str, value: float) -> str:
    for bound in HISTOGRAMS[name]:
        if value <= bound:
            return repr(bound)
    return "+Inf"


async def bump(conn: AsyncConnection, rows: Sequence[tuple[str, str, float]]) -> None:
    """Add to counters; sorted so concurrent transactions lock rows in one order."""
    for name, label, amount in sorted(rows):
        await conn.execute(
            text(
                "INSERT INTO metric_counter (name, label, value) VALUES (:n, :l, :v)"
                " ON CONFLICT (name, label) DO UPDATE SET value = metric_counter.value + :v"
            ),
            {"n": name, "l": label, "v": amount},
        )


async def observe(conn: AsyncConnection, name: str, label: str, value: float) -> None:
    """Record one histogram observation (bucket, count and sum rows)."""
    await bump(
        conn,
        [
            (f"{name}_bucket", f"{label};le={bucket_of(name, value)}", 1.0),
            (f"{name}_count", label, 1.0),
            (f"{name}_sum", label, value),
        ],
    )


async def read_all(engine: AsyncEngine) -> list[tuple[str, str, float]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT name, label, value FROM metric_counter"))).all()
    return [(r.name, r.label, float(r.value)) for r in rows]
