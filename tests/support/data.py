"""Unique test data, so tests share one stack without seeing each other's tickets."""

from __future__ import annotations

import itertools
import random
import uuid

_ids = itertools.count(random.randint(10_000, 90_000) * 1000)


def branch_name(prefix: str = "Sucursal") -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def national_id() -> str:
    """A fresh 10-digit plain id (never collides within a run)."""
    return str(1_000_000_000 + next(_ids))


def chat_id() -> int:
    return random.randint(10**9, 2 * 10**9)


def ticket_body(branch: str, queue: str = "CAJA", **extra: object) -> dict[str, object]:
    return {"nationalId": national_id(), "branchOffice": branch, "queue": queue, **extra}
