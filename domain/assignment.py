"""Which waiting ticket an advisor takes next, and which free advisor gets it.

Strict priority alone starves the teller queue on a busy day: as long as a
higher-priority ticket is waiting, a CAJA customer is never called. Ticketero
therefore applies an anti-starvation rule when ranking the tickets an advisor
can serve:

1. A ticket is *overdue* once it has waited at least its queue's target wait.
2. Overdue tickets go first, the most overdue first, measured relative to the
   target (``waited / target``) so that 20 minutes over a 15-minute target
   counts for more than 20 minutes over a 45-minute one. Ties go to the
   earlier arrival, then to the lower reference.
3. The other tickets follow by queue priority (higher first), then by arrival
   (first in, first out inside a queue), then by reference.

Once overdue, a ticket is called when the service under way ends unless a
ticket even more overdue is waiting, which bounds its wait by the target plus
the longest service the advisor gives (`starvation_bound_seconds`) as long as
the advisor is not overloaded.

Tickets of queues the advisor does not serve (missing from the policies) are
left out. Among several free advisors the least loaded (fewest served today)
gets the ticket first, then the one idle longest, then the lowest id.
Every ordering is total, so the result never depends on the input order.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "Candidate",
    "FreeAdvisor",
    "QueuePolicy",
    "rank_advisors",
    "rank_tickets",
    "starvation_bound_seconds",
]


@dataclass(frozen=True)
class QueuePolicy:
    """How an advisor weighs one queue: its priority and its target wait."""

    priority: int
    target_wait_seconds: float

    def __post_init__(self) -> None:
        target = self.target_wait_seconds
        if not math.isfinite(target) or target <= 0:
            raise ValueError("target_wait_seconds must be a finite, positive number")


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket that could be called."""

    reference: str
    queue: str
    arrived_at: datetime


@dataclass(frozen=True)
class FreeAdvisor:
    """An advisor able to take a ticket now.

    `idle_since` is None when the moment the advisor became free is unknown
    (for example after a restart); such an advisor counts as idle longest.
    """

    advisor_id: int
    served_today: int
    idle_since: datetime | None = None

    def __post_init__(self) -> None:
        if self.served_today < 0:
            raise ValueError("served_today must not be negative")
        if self.idle_since is not None:
            _require_aware(self.idle_since, "idle_since")


def _require_aware(moment: datetime, name: str) -> None:
    # Naive and aware datetimes cannot be compared; fail with a clear message.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


_TicketKey = tuple[int, float, datetime, str, str]
#: Stands in for an unknown idle time; never compared with a real one.
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


def rank_tickets(
    candidates: Sequence[Candidate], policies: Mapping[str, QueuePolicy], now: datetime
) -> list[Candidate]:
    """Return the servable candidates, the one to call next first.

    `policies` maps each queue the advisor serves to its policy; see the
    module docstring for the rule. A ticket stamped after `now` (clock skew)
    counts as not having waited at all.
    """
    _require_aware(now, "now")

    def key(candidate: Candidate) -> _TicketKey:
        policy = policies[candidate.queue]
        waited = max(0.0, (now - candidate.arrived_at).total_seconds())
        ratio = waited / policy.target_wait_seconds
        # Overdue tickets (group 0) by how far past the target, the rest
        # (group 1) by priority; both then FIFO.
        group, rank = (0, -ratio) if ratio >= 1 else (1, -policy.priority)
        return group, rank, candidate.arrived_at, candidate.reference, candidate.queue

    served = [c for c in candidates if c.queue in policies]
    for candidate in served:
        _require_aware(candidate.arrived_at, "arrived_at")
    return sorted(served, key=key)


def rank_advisors(advisors: Sequence[FreeAdvisor]) -> list[FreeAdvisor]:
    """Return the free advisors, the one who should get the next ticket first.

    Least loaded first spreads the day's work evenly; among equals the one
    idle longest (unknown idle time first), so nobody sits waiting while a
    colleague takes ticket after ticket.
    """

    def key(advisor: FreeAdvisor) -> tuple[int, bool, datetime, int]:
        idle = advisor.idle_since
        return advisor.served_today, idle is not None, idle or _LONG_AGO, advisor.advisor_id

    return sorted(advisors, key=key)


def starvation_bound_seconds(target_wait_seconds: float, max_service_seconds: float) -> float:
    """Return how long a ticket waits at most when its advisor keeps up.

    Once a ticket is overdue it goes ahead of every ticket that is not, so the
    advisor takes it as soon as the service under way ends: at most one
    service of the longest queue the advisor serves after the target. This
    holds while no other ticket of that advisor is more overdue, that is, while
    the advisor's queues are not overloaded; under overload no order bounds
    every wait, and this rule spreads the delay over the queues in proportion
    to their targets instead of letting the lowest priority absorb all of it.
    """
    for name, value in (
        ("target_wait_seconds", target_wait_seconds),
        ("max_service_seconds", max_service_seconds),
    ):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite, non-negative number")
    return target_wait_seconds + max_service_seconds
