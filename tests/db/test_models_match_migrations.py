"""The SQLModel models (`db.models`) and the migrations describe the same schema.

A fresh database is migrated with `alembic upgrade head`, then:
- `alembic check` (autogenerate against `db.models.metadata`, types and server
  defaults included) must find nothing to do;
- its catalog must equal the catalog of a second fresh database made by
  `metadata.create_all`, which also covers what autogenerate does not compare:
  check constraints, partial-index predicates, foreign-key actions.
Both databases are dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from db.models import metadata
from devstack import services
from devstack.ephemeral import PG, REPO, migrate

TAG = f"ticketero_models_{os.getpid()}"

# One line per column, constraint and index of the public schema, in PostgreSQL's own words.
CATALOG = """
SELECT format('column %s.%s %s%s default %s', c.relname, a.attname,
              format_type(a.atttypid, a.atttypmod),
              CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
              coalesce(pg_get_expr(d.adbin, d.adrelid), '-'))
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT format('constraint %s.%s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT format('sequence %s', relname) FROM pg_class
WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace
"""


async def fresh_database(name: str) -> str:
    url = PG.format(user="ticketero", db=name)
    await services.ensure_postgres("127.0.0.1", 5432)
    await services.drop_database(url, drop_role=False)  # left over by a killed run
    await services.ensure_database(url)
    return url


@pytest.fixture(scope="module")
async def migrated() -> AsyncIterator[str]:
    """A database made by the migrations."""
    url = await fresh_database(f"{TAG}_migrated")
    try:
        await migrate(url)
        yield url
    finally:
        await services.drop_database(url, drop_role=False)


@pytest.fixture(scope="module")
async def created() -> AsyncIterator[str]:
    """A database made from the models alone."""
    url = await fresh_database(f"{TAG}_created")
    try:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
        finally:
            await engine.dispose()
        yield url
    finally:
        await services.drop_database(url, drop_role=False)


async def catalog(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            lines = (await conn.execute(text(CATALOG))).scalars().all()
    finally:
        await engine.dispose()
    return sorted(line for line in lines if "alembic_version" not in line)


async def test_alembic_check_finds_nothing_to_generate(migrated: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "check",
        cwd=str(REPO),
        env={**os.environ, "DATABASE_URL": migrated},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, f"models and migrations disagree:\n{out.decode()}"


async def test_models_create_the_schema_the_migrations_create(migrated: str, created: str) -> None:
    from_migrations = await catalog(migrated)
    assert len(from_migrations) > 100  # the query sees the schema at all
    assert await catalog(created) == from_migrations
