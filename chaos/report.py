"""The chaos table: per fault, what the client saw, how long recovery took, what was lost.

A request or a ticket belongs to a fault's window from the injection until recovery
(or the recovery timeout); the rest is "between faults". Errors are every answer of
500 and up and every transport failure, except a 503 carrying `Retry-After` (the one
error the API is allowed while a dependency is away) and a connection refused by a dead
API process (a balancer's business), which are counted apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from chaos.client import Sample
from chaos.faults import Window
from chaos.invariants import Verdict
from chaos.load import Life

BETWEEN = "(between faults)"
GLOBAL = ("one ticket per advisor", "numbers unique and consecutive", "health DOWN then UP")


@dataclass
class Row:
    fault: str
    requests: int = 0
    errors: int = 0  # what the client should never see
    retry_later: int = 0  # 503 with Retry-After
    refused: int = 0  # connection refused by a dead API process, retried on the other
    recovery_seconds: float | None = None
    lost: int = 0
    duplicated: int = 0
    crash_window_duplicates: int = 0
    error_kinds: str = ""


def _window_of(at: float, windows: list[Window]) -> str:
    for w in windows:
        if w.started <= at <= w.end:
            return w.fault
    return BETWEEN


def table(
    windows: list[Window], samples: list[Sample], lives: list[Life], verdict: Verdict
) -> list[Row]:
    rows = {w.fault: Row(w.fault, recovery_seconds=w.recovery_seconds) for w in windows}
    rows[BETWEEN] = Row(BETWEEN)
    kinds: dict[str, dict[str, int]] = {name: {} for name in rows}
    for s in samples:
        name = _window_of(s.started, windows)
        row = rows[name]
        row.requests += 1
        if s.allowed_error:
            row.retry_later += 1
        elif s.refused:
            row.refused += 1
        elif not s.ok:
            row.errors += 1
            kind = f"{s.what}:{s.outcome}"
            kinds[name][kind] = kinds[name].get(kind, 0) + 1
    for name, found in kinds.items():
        top = sorted(found.items(), key=lambda kv: -kv[1])[:3]
        rows[name].error_kinds = ", ".join(f"{k}×{n}" for k, n in top)
    for f in verdict.findings:
        if f.invariant in GLOBAL:
            continue
        row = rows[_window_of(f.at, windows)] if f.at is not None else rows[BETWEEN]
        if "reached the chat" in f.detail:
            row.duplicated += 1
        else:
            row.lost += 1
    started = {life.reference: life.started for life in lives if life.reference}
    for ref, n in verdict.explained_duplicates.items():
        rows[_window_of(started.get(ref, 0.0), windows)].crash_window_duplicates += n
    return list(rows.values())


def render(rows: list[Row]) -> str:
    head = (
        "fault",
        "requests",
        "errors",
        "503+RA",
        "refused",
        "recovery s",
        "lost",
        "dup",
        "crash-dup",
    )
    body = [
        (
            r.fault,
            str(r.requests),
            str(r.errors),
            str(r.retry_later),
            str(r.refused),
            "-" if r.recovery_seconds is None else f"{r.recovery_seconds:.1f}",
            str(r.lost),
            str(r.duplicated),
            str(r.crash_window_duplicates),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in [head, *body]
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    extra = [f"  {r.fault}: {r.error_kinds}" for r in rows if r.error_kinds]
    if extra:
        out += ["", "errors the client saw (what:outcome×count):", *extra]
    return "\n".join(out)


def as_json(rows: list[Row], verdict: Verdict, notes: list[str]) -> dict[str, Any]:
    return {
        "table": [asdict(r) for r in rows],
        "acknowledged": verdict.acknowledged,
        "unacknowledged_but_created": verdict.unacknowledged_but_created,
        "tickets": verdict.tickets,
        "messages": verdict.messages,
        "explained_duplicates": verdict.explained_duplicates,
        "violations": [asdict(f) for f in verdict.findings],
        "notes": notes,
    }
