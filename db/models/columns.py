"""Column types and SQL fragments the table models share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import DateTime, func, text

from domain.states import ACTIVE_STATUSES, AdvisorStatus, TicketStatus

# Every timestamp is stored with its time zone.
TS = DateTime(timezone=True)


def status_in(values: Iterable[str], column: str = "status") -> str:
    """`status IN ('A','B')` in the enum's order (as the migrations wrote it)."""
    return f"{column} IN (" + ",".join(f"'{v}'" for v in values) + ")"


# Tickets a person still holds: the predicate of the partial indexes on `ticket`.
ACTIVE_TICKET = status_in(s for s in TicketStatus if s in ACTIVE_STATUSES)
#: Every advisor status: the check constraint on `advisor.status`.
ADVISOR_STATUS = status_in(AdvisorStatus)
#: What an advisor may ask for after the ticket in hand: `advisor.pending_status`.
ADVISOR_PENDING_STATUS = status_in(
    (AdvisorStatus.BREAK, AdvisorStatus.OFFLINE), column="pending_status"
)


def server_default(value: Any) -> dict[str, Any]:
    """`sa_column_kwargs` for a column the database fills in itself."""
    return {"server_default": value}


def created_now() -> dict[str, Any]:
    """`sa_column_kwargs` of a timestamp the database sets to now()."""
    return server_default(func.now())


def sql(fragment: str) -> Any:
    """A literal SQL fragment (index expressions and predicates, server defaults)."""
    return text(fragment)
