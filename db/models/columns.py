"""Column types and SQL fragments the table models share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, func, text

# Every timestamp is stored with its time zone.
TS = DateTime(timezone=True)

# Tickets a person still holds: the predicate of the partial indexes on `ticket`.
ACTIVE_TICKET = "status IN ('WAITING','NOTIFIED','CALLED','IN_SERVICE')"


def server_default(value: Any) -> dict[str, Any]:
    """`sa_column_kwargs` for a column the database fills in itself."""
    return {"server_default": value}


def created_now() -> dict[str, Any]:
    """`sa_column_kwargs` of a timestamp the database sets to now()."""
    return server_default(func.now())


def sql(fragment: str) -> Any:
    """A literal SQL fragment (index expressions and predicates, server defaults)."""
    return text(fragment)
