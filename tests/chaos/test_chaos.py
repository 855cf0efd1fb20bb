"""The chaos suite's bounded form: every fault once (and one overlap), short, then the
invariants. `make chaos` (`python -m chaos`) runs the long form with the table.

One run serves every test here; each test asserts one invariant of issue 14 on it, so a
failure names the invariant and its evidence (ticket references, advisor, queue/day).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from chaos.faults import schedule
from chaos.invariants import Finding
from chaos.report import BETWEEN, render
from chaos.run import Options, Outcome, run


@pytest.fixture(scope="module")
async def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    log_dir = Path(os.environ.get("TICKETERO_CHAOS_LOGS", tmp_path_factory.mktemp("chaos")))
    done = await run(
        Options(
            log_dir=log_dir,
            short=True,
            hold=2.0,
            gap=1.0,
            warmup=2.0,
            drain=240.0,  # a cap: the drain ends when all settled, or after 30 s stuck
            stall=30.0,
            recovery=30.0,
        )
    )
    print("\n" + render(done.rows))  # shown with -s or on failure
    return done


def about(outcome: Outcome, *invariants: str) -> list[Finding]:
    return [f for f in outcome.verdict.findings if f.invariant in invariants]


def evidence(findings: Iterable[Finding]) -> str:
    return "\n".join(f"{f.subject}: {f.detail}" for f in findings)


async def test_the_load_ran_through_every_fault(outcome: Outcome) -> None:
    assert [w.fault for w in outcome.windows] == [f.name for f in schedule(short=True)]
    assert outcome.verdict.acknowledged >= 30, outcome.verdict
    assert outcome.verdict.messages >= outcome.verdict.acknowledged
    for row in outcome.rows:
        assert row.requests > 0, row


async def test_every_fault_is_recovered_from(outcome: Outcome) -> None:
    stuck = [w.fault for w in outcome.windows if w.recovered is None]
    assert not stuck, stuck


async def test_every_acknowledged_creation_exists_once_in_postgres_and_temporal(
    outcome: Outcome,
) -> None:
    found = about(outcome, "exists in PostgreSQL", "exists once in Temporal")
    assert not found, evidence(found)


async def test_every_ticket_reaches_its_final_state(outcome: Outcome) -> None:
    found = about(outcome, "reaches a final state")
    assert not found, evidence(found)


async def test_every_message_is_delivered_once_or_failed_with_its_reason(
    outcome: Outcome,
) -> None:
    found = about(outcome, "message recorded", "message final", "delivered once")
    assert not found, evidence(found)


async def test_no_advisor_held_two_tickets(outcome: Outcome) -> None:
    found = about(outcome, "one ticket per advisor")
    assert not found, evidence(found)


async def test_numbers_are_unique_and_consecutive_per_queue_and_day(outcome: Outcome) -> None:
    found = about(outcome, "numbers unique and consecutive")
    assert not found, evidence(found)


async def test_health_names_the_broken_dependency_then_recovers(outcome: Outcome) -> None:
    assert {c for w in outcome.windows for c in w.down} == {"db", "rabbit", "temporal"}
    found = about(outcome, "health DOWN then UP")
    assert not found, evidence(found)


async def test_the_client_sees_no_error_but_503_with_retry_after(outcome: Outcome) -> None:
    seen = {r.fault: r.error_kinds for r in outcome.rows if r.errors}
    assert not seen, seen
    assert BETWEEN in {r.fault for r in outcome.rows}
