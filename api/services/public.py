"""What anyone may read about a branch: its name, and per queue the line's length and a
newcomer's estimated wait. Nothing that names or identifies a ticket or a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from api.errors import ApiError
from api.resources import Resources
from db import supervision as store
from db.branches import branch_names as stored_branch_names
from domain.estimate import NO_ADVISORS, honest_wait
from domain.numbering import business_day

#: Branch names listed publicly at most (the home page's picker).
MAX_PUBLIC_BRANCHES = 500


@dataclass(frozen=True)
class PublicQueue:
    queue: str
    prefix: str
    waiting: int
    estimated_wait_minutes: int | None
    estimated_wait_low: int | None
    estimated_wait_high: int | None
    #: `NO_ADVISORS` when nobody serves the queue now (and no time is given)
    estimated_wait_reason: str | None = None


@dataclass(frozen=True)
class PublicBranch:
    branch_office: str
    generated_at: datetime
    queues: list[PublicQueue]


async def branch_names(res: Resources, limit: int = MAX_PUBLIC_BRANCHES) -> list[str]:
    """Registered branch names, alphabetical (names are not secret: the unknown-branch
    404 lists them too)."""
    async with res.engine.connect() as conn:
        return await stored_branch_names(conn, limit)


async def branch_queues(res: Resources, name: str) -> PublicBranch:
    """Each queue of the branch with its waiting count and the wait a newcomer can expect
    (the estimate the ticket response would give: measured service time and staffing),
    or no time and the reason `NO_ADVISORS` when nobody serves the queue now."""
    now = datetime.now(UTC)
    key = " ".join(name.split())
    async with res.engine.connect() as conn:
        branch = await store.find_branch(conn, key)
        if branch is None:
            raise ApiError(404, "branch.not_found", params={"branch": repr(key[:100])})
        figures = await store.queue_figures(
            conn, branch.id, business_day(now, branch.time_zone), now
        )
    prefixes = {q.queue: q.prefix for q in branch.queues}
    queues = []
    for figure in figures:
        guess = honest_wait(
            figure.waiting,
            figure.avg_service_seconds,
            servers=figure.serving_advisors,
            idle_servers=figure.idle_advisors,
        )
        queues.append(
            PublicQueue(
                queue=figure.queue,
                prefix=prefixes.get(figure.queue, ""),
                waiting=figure.waiting,
                estimated_wait_minutes=None if guess is None else guess.minutes,
                estimated_wait_low=None if guess is None else guess.low_minutes,
                estimated_wait_high=None if guess is None else guess.high_minutes,
                estimated_wait_reason=NO_ADVISORS if guess is None else None,
            )
        )
    return PublicBranch(branch_office=branch.name, generated_at=now, queues=queues)
