"""Kiosk devices: a token per kiosk, bound to one branch, stored as its SHA-256 only.

The token is 256 random bits shown once when issued; the table keeps its hash, so a
database dump does not hand out working tokens, and revoking sets `revoked_at`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

TOKEN_PREFIX = "kiosk_"  # noqa: S105 - a prefix that makes leaked tokens recognisable


@dataclass(frozen=True)
class KioskRow:
    id: int
    branch_id: int
    branch_office: str
    label: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_SELECT = (
    "SELECT k.id, k.branch_id, b.name AS branch_office, k.label, k.created_by, k.created_at,"
    " k.revoked_at FROM kiosk k JOIN branch b ON b.id = k.branch_id"
)


def _row(r: Row[Any]) -> KioskRow:
    return KioskRow(
        id=r.id,
        branch_id=r.branch_id,
        branch_office=r.branch_office,
        label=r.label,
        created_by=r.created_by,
        created_at=r.created_at,
        revoked_at=r.revoked_at,
    )


async def issue(
    conn: AsyncConnection, branch_id: int, label: str, created_by: str
) -> tuple[KioskRow, str]:
    """A new kiosk of the branch and its token (the only time the token exists in clear)."""
    token = new_token()
    kiosk_id = (
        await conn.execute(
            text(
                "INSERT INTO kiosk (branch_id, label, token_hash, created_by)"
                " VALUES (:b, :l, :h, :by) RETURNING id"
            ),
            {"b": branch_id, "l": label, "h": token_hash(token), "by": created_by},
        )
    ).scalar_one()
    found = await get(conn, kiosk_id)
    assert found is not None
    return found, token


async def get(conn: AsyncConnection, kiosk_id: int) -> KioskRow | None:
    row = (await conn.execute(text(_SELECT + " WHERE k.id = :i"), {"i": kiosk_id})).first()
    return None if row is None else _row(row)


async def by_token(conn: AsyncConnection, token: str) -> KioskRow | None:
    """The active (not revoked) kiosk holding this token."""
    return await by_token_hash(conn, token_hash(token))


async def by_token_hash(conn: AsyncConnection, hashed: str) -> KioskRow | None:
    """The active (not revoked) kiosk whose token has this `token_hash`."""
    row = (
        await conn.execute(
            text(_SELECT + " WHERE k.token_hash = :h AND k.revoked_at IS NULL"), {"h": hashed}
        )
    ).first()
    return None if row is None else _row(row)


async def count(conn: AsyncConnection, branch_id: int) -> int:
    found = await conn.execute(
        text("SELECT count(*) FROM kiosk WHERE branch_id = :b"), {"b": branch_id}
    )
    return int(found.scalar_one())


async def list_page(
    conn: AsyncConnection, branch_id: int, limit: int, offset: int
) -> list[KioskRow]:
    rows = await conn.execute(
        text(_SELECT + " WHERE k.branch_id = :b ORDER BY k.id LIMIT :l OFFSET :o"),
        {"b": branch_id, "l": limit, "o": offset},
    )
    return [_row(r) for r in rows]


async def revoke(conn: AsyncConnection, branch_id: int, kiosk_id: int) -> bool:
    """Revoke the branch's kiosk; False when the branch has no such kiosk."""
    found = await conn.execute(
        text(
            "UPDATE kiosk SET revoked_at = coalesce(revoked_at, now())"
            " WHERE id = :i AND branch_id = :b RETURNING id"
        ),
        {"i": kiosk_id, "b": branch_id},
    )
    return found.first() is not None
