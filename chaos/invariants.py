"""What must hold after the faults, read from PostgreSQL, Temporal and the customers' chats.

Every finding names the ticket (or advisor, or queue) and what is wrong, so a report
reader can go straight to the evidence. A duplicate message whose first copy reached
the chat just before a bridge was SIGKILLed is the documented crash-between-send-and-
record window: counted apart (`explained_duplicates`), not as a violation.

Long because each invariant of the issue is a query plus its own comparison.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from chaos.faults import Window
from chaos.health import HealthLog
from chaos.load import Life
from domain.contracts import (
    MSG_CREATED,
    STATE_QUERY,
    TicketState,
    notification_workflow_id,
    ticket_workflow_id,
)
from domain.states import FINAL_MESSAGE_STATES, FINAL_STATUSES, MessageState

#: A duplicate whose first copy arrived at most this long before a bridge SIGKILL is
#: the crash-between-send-and-record window (the send is done, the record is not).
CRASH_WINDOW_SECONDS = 3.0
#: Health must be seen DOWN within this long after the fault was lifted at the latest.
HEALTH_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class Finding:
    invariant: str
    subject: str  # a ticket reference, advisor id, queue/day, fault
    detail: str
    at: float | None = None  # when the subject began (for attribution to a fault window)


@dataclass
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    #: reference -> extra copies explained by the crash window
    explained_duplicates: dict[str, int] = field(default_factory=dict)
    acknowledged: int = 0
    unacknowledged_but_created: int = 0
    tickets: int = 0
    messages: int = 0

    def add(self, invariant: str, subject: str, detail: str, at: float | None = None) -> None:
        self.findings.append(Finding(invariant, subject, detail, at))


async def _tickets(engine: AsyncEngine, branch: str) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    text(
                        "SELECT t.reference, t.status, t.queue, t.business_day, t.sequence,"
                        " t.number, t.advisor_id, t.called_at, t.completed_at,"
                        " t.telegram_chat_id, t.created_at, t.claimed_at,"
                        " (SELECT a.id FROM advisor a WHERE a.current_ticket = t.reference)"
                        " AS holder"
                        " FROM ticket t JOIN branch b ON b.id = t.branch_id WHERE b.name = :b"
                    ),
                    {"b": branch},
                )
            ).all()
        )


async def _messages(engine: AsyncEngine, branch: str) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    text(
                        "SELECT m.id, m.ticket_reference, m.type, m.chat_id, m.state,"
                        " m.attempts, m.last_error, m.text, m.sent_at"
                        " FROM mensaje m JOIN ticket t ON t.reference = m.ticket_reference"
                        " JOIN branch b ON b.id = t.branch_id WHERE b.name = :b"
                    ),
                    {"b": branch},
                )
            ).all()
        )


async def unsettled(engine: AsyncEngine, branch: str) -> int:
    """Tickets not in a final state, messages not SENT/FAILED, and chat-linked tickets whose
    "created" message is not recorded yet (its enqueue may be retrying after a fault):
    0 once the load drained."""
    final = {s.value for s in FINAL_STATUSES}
    final_messages = {s.value for s in FINAL_MESSAGE_STATES}
    tickets = await _tickets(engine, branch)
    messages = await _messages(engine, branch)
    open_tickets = sum(1 for t in tickets if t.status not in final)
    open_messages = sum(1 for m in messages if m.state not in final_messages)
    recorded = {str(m.ticket_reference) for m in messages if m.type == MSG_CREATED}
    unrecorded = sum(
        1 for t in tickets if t.telegram_chat_id is not None and str(t.reference) not in recorded
    )
    return open_tickets + open_messages + unrecorded


#: Seconds, shared by all tickets, for final tickets' workflows to close.
CLOSING_GRACE = 60.0


async def _still_running(temporal: Client, workflow_id: str, deadline: float) -> str | None:
    """None once the workflow closed; else what it still waits on, past the deadline."""
    handle = temporal.get_workflow_handle(workflow_id)
    while True:
        described = await handle.describe()
        if described.status != WorkflowExecutionStatus.RUNNING:
            return None
        if time.monotonic() >= deadline:
            raw = described.raw_description
            activities = [a.activity_type.name for a in raw.pending_activities]
            children = [c.workflow_id for c in raw.pending_children]
            return f"pending activities {activities}, children {children}"
        await asyncio.sleep(0.5)  # polling a condition with a deadline


async def _workflow_runs(temporal: Client) -> Counter[str]:
    runs: Counter[str] = Counter()
    async for execution in temporal.list_workflows():
        if execution.id.startswith("ticket-"):
            runs[execution.id] += 1
    return runs


async def _chat(sandbox: httpx.AsyncClient, chat: int) -> list[dict[str, Any]]:
    resp = await sandbox.get(f"/sandbox/chats/{chat}/messages")
    return list(resp.json()) if resp.status_code == 200 else []


async def check(
    *,
    engine: AsyncEngine,
    temporal: Client,
    sandbox: httpx.AsyncClient,
    branch: str,
    lives: list[Life],
    windows: list[Window],
    health: HealthLog,
    bridge_kills: list[tuple[float, str]],
) -> Verdict:
    verdict = Verdict()
    tickets = await _tickets(engine, branch)
    messages = await _messages(engine, branch)
    verdict.tickets, verdict.messages = len(tickets), len(messages)
    by_ref = {str(t.reference): t for t in tickets}
    acknowledged = {life.reference: life for life in lives if life.reference is not None}
    verdict.acknowledged = len(acknowledged)
    verdict.unacknowledged_but_created = len(set(by_ref) - set(acknowledged))
    runs = await _workflow_runs(temporal)
    born = {ref: life.started for ref, life in acknowledged.items()}

    # every acknowledged creation exists exactly once in PostgreSQL and in Temporal
    for ref, life in acknowledged.items():
        if ref not in by_ref:
            verdict.add(
                "exists in PostgreSQL", ref, "201 acknowledged, no ticket row", life.started
            )
        n = runs.get(f"ticket-{ref}", 0)
        if n != 1:
            verdict.add("exists once in Temporal", ref, f"{n} workflow runs", life.started)
    for ref in by_ref:
        if f"ticket-{ref}" not in runs:
            verdict.add("exists once in Temporal", ref, "ticket row without a workflow")

    # every ticket reaches its final state, in the read model and in Temporal
    final = {s.value for s in FINAL_STATUSES}
    closing_deadline = time.monotonic() + CLOSING_GRACE
    for ref, t in by_ref.items():
        if t.status not in final:
            detail = f"stuck in {t.status}; {await _stuck(temporal, t)}"
            verdict.add("reaches a final state", ref, detail, born.get(ref))
            continue
        if f"ticket-{ref}" in runs:
            # A final row's workflow closes after its follow-up step (the dispatch it owes):
            # give the slow ones a shared grace before calling one stuck.
            waiting = await _still_running(temporal, f"ticket-{ref}", closing_deadline)
            if waiting is not None:
                verdict.add(
                    "reaches a final state",
                    ref,
                    f"row {t.status}, workflow still running ({waiting})",
                    born.get(ref),
                )

    # every message delivered exactly once or FAILED with its reason; no duplicates
    final_messages = {s.value for s in FINAL_MESSAGE_STATES}
    per_ticket: dict[str, list[Any]] = defaultdict(list)
    for m in messages:
        per_ticket[str(m.ticket_reference)].append(m)
    for ref, t in by_ref.items():
        rows = per_ticket.get(ref, [])
        if t.telegram_chat_id is not None and not any(m.type == "TICKET_CREATED" for m in rows):
            detail = f"no TICKET_CREATED row; {await _notification(temporal, t)}"
            verdict.add("message recorded", ref, detail, born.get(ref))
        for m in rows:
            if m.state not in final_messages:
                verdict.add(
                    "message final",
                    ref,
                    f"{m.type} still {m.state} after {m.attempts} attempts",
                    born.get(ref),
                )
            elif m.state == MessageState.FAILED.value and not m.last_error:
                verdict.add(
                    "message final", ref, f"{m.type} FAILED without a reason", born.get(ref)
                )
        if t.telegram_chat_id is None:
            continue
        chat = await _chat(sandbox, int(t.telegram_chat_id))
        copies = Counter(str(c["text"]) for c in chat)
        sent = [m for m in rows if m.state == MessageState.SENT.value]
        for m in sent:
            if copies.get(m.text, 0) == 0:
                verdict.add(
                    "delivered once", ref, f"{m.type} recorded SENT, not in the chat", born.get(ref)
                )
        for body, n in copies.items():
            if n < 2:
                continue
            first = min(_stamp(c["received_at"]) for c in chat if c["text"] == body)
            if any(first <= k <= first + CRASH_WINDOW_SECONDS for k, _ in bridge_kills):
                verdict.explained_duplicates[ref] = verdict.explained_duplicates.get(ref, 0) + n - 1
                continue
            kind = next((m.type for m in rows if m.text == body), "?")
            verdict.add("delivered once", ref, f"{kind} reached the chat {n} times", born.get(ref))

    _advisors(verdict, tickets)
    _numbers(verdict, tickets)
    _health(verdict, windows, health)
    return verdict


async def _stuck(temporal: Client, t: Any) -> str:
    """Evidence for a ticket that never finished: the row's claim and the workflow's view."""
    row = (
        f"row advisor={t.advisor_id} claimed_at={t.claimed_at} called_at={t.called_at} "
        f"held by advisor={t.holder}"
    )
    handle = temporal.get_workflow_handle(f"ticket-{t.reference}")
    try:
        described = await handle.describe()
        state = await handle.query(STATE_QUERY, result_type=TicketState)
    except RPCError as exc:
        return f"{row}; workflow: {exc}"
    return (
        f"{row}; workflow {described.status.name if described.status else '?'} "
        f"state={state.status} advisor={state.advisor_id}"
    )


async def _notification(temporal: Client, t: Any) -> str:
    """Evidence for a missing message row: what its workflow (and the ticket's) did."""
    parts = []
    for wid in (
        notification_workflow_id(t.reference, MSG_CREATED),
        ticket_workflow_id(t.reference),
    ):
        try:
            raw = (await temporal.get_workflow_handle(wid).describe()).raw_description
        except RPCError as exc:
            parts.append(f"{wid}: {exc}")
            continue
        info = raw.workflow_execution_info
        pending = [
            f"{a.activity_type.name} attempt {a.attempt} ({a.last_failure.message})"
            for a in raw.pending_activities
        ]
        parts.append(
            f"{wid}: status {info.status} history {info.history_length} pending {pending}"
            f" ticket status={t.status} created={t.created_at}"
        )
    return "; ".join(parts)


def _stamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _advisors(verdict: Verdict, tickets: list[Any]) -> None:
    """No advisor held two tickets: their called..completed spans do not overlap."""
    spans: dict[int, list[tuple[datetime, datetime | None, str]]] = defaultdict(list)
    for t in tickets:
        if t.advisor_id is not None and t.called_at is not None:
            spans[t.advisor_id].append((t.called_at, t.completed_at, str(t.reference)))
    for advisor, held in spans.items():
        held.sort(key=lambda s: s[0])
        for (_, end, ref), (start, _, nxt) in itertools.pairwise(held):
            if end is None or start < end:
                verdict.add(
                    "one ticket per advisor",
                    f"advisor {advisor}",
                    f"held {ref} and {nxt} at once (called {start.isoformat()})",
                )


def _numbers(verdict: Verdict, tickets: list[Any]) -> None:
    """Numbers unique and consecutive per queue and business day."""
    by_queue: dict[tuple[str, Any], list[int]] = defaultdict(list)
    for t in tickets:
        by_queue[(t.queue, t.business_day)].append(int(t.sequence))
    for (queue, day), seqs in by_queue.items():
        counted = Counter(seqs)
        dups = sorted(s for s, n in counted.items() if n > 1)
        gaps = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
        if dups or gaps:
            verdict.add(
                "numbers unique and consecutive",
                f"{queue} {day}",
                f"duplicated {dups}, missing {gaps}",
            )


def _health(verdict: Verdict, windows: list[Window], health: HealthLog) -> None:
    for w in windows:
        for component in sorted(w.down):
            if not health.saw_down(component, w.started, w.lifted + HEALTH_GRACE_SECONDS):
                verdict.add("health DOWN then UP", w.fault, f"{component} never reported DOWN")
        if w.down and health.all_up_after(w.lifted) is None:
            verdict.add("health DOWN then UP", w.fault, "health not UP again on every API")
