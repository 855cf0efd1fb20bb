"""Demo data for a development stack: `python -m devstack.seed` (`make run` runs it).

One branch ("Sucursal Centro") with its default queues, five advisors who
between them serve every queue, a login for each, and a supervisor and an
operator. Idempotent: whatever already exists (by branch name, advisor email,
username) is left as it is, so a second run creates nothing and never resets
a password or a setting changed since. Every password is DEMO_PASSWORD, which
is why the command refuses to run outside APP_ENV=dev without `--force`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import advisors as store
from db import users
from db.engine import make_engine
from db.tickets import ensure_branch
from domain.passwords import hash_password
from settings import get_settings

BRANCH = "Sucursal Centro"
TIME_ZONE = "America/Santiago"
OPENS, CLOSES = time(9, 0), time(14, 0)
DEFAULT_PASSWORD = "ticketero-demo"  # noqa: S105 - the documented demo password


@dataclass(frozen=True)
class DemoAdvisor:
    name: str
    email: str
    desk: int
    queues: tuple[str, ...]

    @property
    def username(self) -> str:
        return self.email.split("@", 1)[0]


ADVISORS = (
    DemoAdvisor("María José Contreras", "maria.contreras@ticketero.example", 1, ("CAJA",)),
    DemoAdvisor("Felipe Muñoz Tapia", "felipe.munoz@ticketero.example", 2, ("CAJA",)),
    DemoAdvisor(
        "Camila Rojas Soto", "camila.rojas@ticketero.example", 3, ("PERSONAL_BANKER", "CAJA")
    ),
    DemoAdvisor("Rodrigo Fuentes Vera", "rodrigo.fuentes@ticketero.example", 4, ("EMPRESAS",)),
    DemoAdvisor(
        "Francisca Araya Morales",
        "francisca.araya@ticketero.example",
        5,
        ("GERENCIA", "EMPRESAS"),
    ),
)
STAFF = (("supervisor", "supervisor"), ("operador", "operator"))


def _created(log: list[str], what: str) -> None:
    log.append(what)
    print(f"seed: created {what}")


async def _branch(engine: AsyncEngine, log: list[str]) -> int:
    async with engine.begin() as conn:
        found = (
            await conn.execute(
                text("SELECT id FROM branch WHERE lower(name) = lower(:n)"), {"n": BRANCH}
            )
        ).first()
        if found is not None:
            # a demo branch is open at all hours, so a newcomer can try it at any time
            await conn.execute(
                text("UPDATE branch SET open_all_hours = true WHERE id = :b"), {"b": found.id}
            )
            return int(found.id)
        branch = await ensure_branch(conn, BRANCH, TIME_ZONE)
        await conn.execute(
            text(
                "UPDATE branch SET time_zone = :tz, opens_at = :o, closes_at = :c,"
                " open_all_hours = true WHERE id = :b"
            ),
            {"tz": TIME_ZONE, "o": OPENS, "c": CLOSES, "b": branch.id},
        )
    _created(log, f"branch {BRANCH!r} ({TIME_ZONE}, open at all hours for trying things out)")
    return branch.id


async def _advisor(
    engine: AsyncEngine, branch_id: int, demo: DemoAdvisor, log: list[str]
) -> int | None:
    """The demo advisor's id, created when missing; None when its desk is taken."""
    async with engine.begin() as conn:
        found = (
            await conn.execute(
                text("SELECT id FROM advisor WHERE lower(email) = lower(:e)"), {"e": demo.email}
            )
        ).first()
        if found is not None:
            return int(found.id)
        if await store.desk_taken(conn, branch_id, demo.desk):
            print(f"seed: skipped advisor {demo.name}: desk {demo.desk} is taken")
            return None
        new = store.NewAdvisor(demo.name, demo.email, demo.desk, list(demo.queues))
        advisor_id = await store.insert_advisor(conn, branch_id, new)
    _created(log, f"advisor {demo.name} (desk {demo.desk}, {', '.join(demo.queues)})")
    return advisor_id


async def _user(
    engine: AsyncEngine,
    log: list[str],
    username: str,
    password: str,
    role: str,
    advisor_id: int | None = None,
) -> None:
    """Create the user unless the name is taken or the advisor already has one."""
    async with engine.connect() as conn:
        if await users.username_taken(conn, username):
            return
        if advisor_id is not None and await users.advisor_has_user(conn, advisor_id):
            return
    try:
        await users.insert_user(engine, username, hash_password(password), role, advisor_id)
    except users.UserExists:
        return
    _created(log, f"user {username!r} (role {role})")


async def seed(engine: AsyncEngine, password: str) -> list[str]:
    """Create what is missing; returns what was created (nothing on a re-run)."""
    log: list[str] = []
    branch_id = await _branch(engine, log)
    for demo in ADVISORS:
        advisor_id = await _advisor(engine, branch_id, demo, log)
        if advisor_id is not None:
            await _user(engine, log, demo.username, password, "advisor", advisor_id)
    for username, role in STAFF:
        await _user(engine, log, username, password, role)
    return log


async def _main(password: str) -> list[str]:
    engine = make_engine(get_settings(), pool_size=2)
    try:
        return await seed(engine, password)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.seed", description=__doc__)
    parser.add_argument("--force", action="store_true", help="run even when APP_ENV is not dev")
    args = parser.parse_args(argv)
    env = get_settings().app_env
    if env != "dev" and not args.force:
        print(f"seed: refusing to seed demo users with APP_ENV={env!r} (use --force)")
        return 2
    created = asyncio.run(_main(os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD))
    print("seed: done" if created else "seed: done, nothing to create")
    return 0


if __name__ == "__main__":
    sys.exit(main())
