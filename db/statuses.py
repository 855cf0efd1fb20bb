"""Status values as SQL parameters, so no statement spells a status as a literal.

Statements compare with a bound parameter (`status = :busy`) or a bound list
(`status = ANY(:waiting)`, or an expanding `IN :active`); the values come from the
domain enums and sets here. Lists are plain strings in the enums' declaration order.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from domain.states import (
    ACTIVE_STATUSES,
    BEING_SERVED_STATUSES,
    SERVING_ADVISOR_STATUSES,
    WAITING_STATUSES,
)


def values(members: Iterable[StrEnum]) -> list[str]:
    """The members' stored values, in declaration order (a stable statement parameter)."""
    chosen = set(members)
    if not chosen:
        raise ValueError("an empty status list matches nothing")
    order = list(type(next(iter(chosen))))
    return [m.value for m in sorted(chosen, key=order.index)]


#: Tickets in progress (one per person and branch).
ACTIVE = values(ACTIVE_STATUSES)
#: Tickets still in the line; positions are counted among these.
WAITING = values(WAITING_STATUSES)
#: Tickets called and not finished.
BEING_SERVED = values(BEING_SERVED_STATUSES)
#: Advisors who count as serving capacity (free or with a customer).
SERVING_ADVISORS = values(SERVING_ADVISOR_STATUSES)
