"""The parts of the restore's reconciliation on their own: reading a ticket's life from
recorded histories (of every code version still replayed), and the status fix-up that is
written once however often it is retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.contracts import APPLY_TRANSITION, TransitionRecord
from ops.activities import reconcile_rows
from ops.activities.reconcile import dumped_at, visibility_query
from ops.activities.reconcile_history import read_life
from tests.operations.helpers import add_tickets

HISTORIES = Path(__file__).resolve().parents[1] / "workflows" / "histories"
EXPECTED = {
    "completed": ("C01", ["CALL", "START", "COMPLETE"], "COMPLETED"),
    "cancelled": ("C04", ["CANCEL"], "CANCELLED"),
    "expired": ("C05", ["EXPIRE"], "EXPIRED"),
    "no-show-recalled": ("C02", ["CALL", "NO_SHOW", "RECALL", "START", "COMPLETE"], "COMPLETED"),
    "transferred": ("C03", ["CALL", "TRANSFER", "CALL", "START", "COMPLETE"], "COMPLETED"),
}


def recorded(version: str, life: str) -> WorkflowHistory:
    path = HISTORIES / f"{version}-ticket-{life}.json"
    return WorkflowHistory.from_json(path.stem, path.read_text())


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("life", sorted(EXPECTED))
async def test_a_recorded_ticket_life_is_read_back(version: str, life: str) -> None:
    number, actions, final = EXPECTED[life]
    read = await read_life(recorded(version, life), pydantic_data_converter)
    assert read.created is not None and read.created.number == number
    assert read.created.reference == read.new.reference
    transitions = [r.payload for r in read.records if isinstance(r.payload, TransitionRecord)]
    assert [t.action for t in transitions] == actions
    assert all(r.done for r in read.records) and not read.pending
    assert read.closed and read.outcome is not None and read.outcome.final_status == final


def before_last_record(life: str) -> WorkflowHistory:
    """The history as it stood before its last transition was recorded."""
    raw = json.loads((HISTORIES / f"v2-ticket-{life}.json").read_text())
    events = raw["events"]
    records = {
        str(e["eventId"])
        for e in events
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
        and e["activityTaskScheduledEventAttributes"]["activityType"]["name"] == APPLY_TRANSITION
    }
    last = max(
        i
        for i, e in enumerate(events)
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_COMPLETED"
        and str(e["activityTaskCompletedEventAttributes"]["scheduledEventId"]) in records
    )
    raw["events"] = events[:last]
    return WorkflowHistory.from_json(f"cut-{life}", raw)


async def test_an_update_whose_write_has_not_finished_is_pending() -> None:
    """COMPLETE scheduled, held by maintenance mode: it lands later or is rolled back."""
    cut = await read_life(before_last_record("completed"), pydantic_data_converter)
    assert cut.pending and not cut.closed and cut.outcome is None
    assert [r.done for r in cut.records] == [True, True, False]
    assert not cut.records[-1].replayable


async def test_a_timer_transition_not_yet_written_is_replayed_not_waited_for() -> None:
    """The day-end expiry stands in the workflow even if its write fails: written now."""
    cut = await read_life(before_last_record("expired"), pydantic_data_converter)
    (expiry,) = cut.records
    assert not expiry.done and expiry.decided and expiry.replayable
    assert not cut.pending


def test_the_visibility_query_covers_running_and_closed_since_the_dump() -> None:
    since = dumped_at("safety_ticketero_backup_20261205_213000.sql.gz")
    assert since == datetime(2026, 12, 5, 21, 30, tzinfo=UTC)
    assert visibility_query("ticketero", since) == (
        "WorkflowType = 'TicketWorkflow' AND TaskQueue = 'ticketero'"
        " AND (ExecutionStatus = 'Running' OR CloseTime >= '2026-12-05T21:30:00Z')"
    )


async def test_a_status_fix_is_written_once(engine: AsyncEngine) -> None:
    (reference,) = await add_tickets(engine, 1)
    at = datetime.now(UTC)
    for _ in range(2):  # a retried reconciliation
        await reconcile_rows.set_status(engine, reference, "WAITING", "EXPIRED", at)
    row = await reconcile_rows.ticket_row(engine, reference)
    assert row is not None and row.status == "EXPIRED"
    async with engine.connect() as conn:
        actions = (
            await conn.execute(
                text("SELECT action FROM ticket_event WHERE ticket_reference = :r ORDER BY id"),
                {"r": reference},
            )
        ).scalars()
        assert list(actions) == ["CREATE", reconcile_rows.RECONCILE_ACTION]
