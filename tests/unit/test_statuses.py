"""Stored states: the enums match what the schema allows, and SQL takes its lists from them."""

import re
from pathlib import Path

import pytest

from db import statuses
from domain.states import (
    ACTIVE_STATUSES,
    BEING_SERVED_STATUSES,
    FINAL_MESSAGE_STATES,
    FINAL_STATUSES,
    SERVING_ADVISOR_STATUSES,
    TERMINAL_STATUSES,
    WAITING_STATUSES,
    AdvisorStatus,
    DeliveryOutcome,
    MessageState,
    TicketStatus,
    allowed_actions,
)

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "db" / "migrations" / "versions"
ALL_VALUES = {m.value for enum in (TicketStatus, AdvisorStatus, MessageState) for m in enum} | {
    o.value for o in DeliveryOutcome
}
# Code that writes SQL: a status there is a bound parameter, never a quoted literal.
SQL_PACKAGES = ("db", "assignment", "activities", "bridge", "workflows", "api")


def _quoted(text: str) -> set[str]:
    return set(re.findall(r"'([A-Z_]+)'", text))


def test_advisor_status_is_what_the_check_constraint_allows() -> None:
    migration = (MIGRATIONS / "0002_advisors_lifecycle.py").read_text("utf-8")
    constraint = re.search(r"status IN \(([^)]*)\)", migration)
    assert constraint is not None
    assert _quoted(constraint.group(1)) == {s.value for s in AdvisorStatus}


def test_active_statuses_are_the_partial_indexes_predicate() -> None:
    for name in ("0001_initial.py", "0004_chat_index.py"):
        migration = (MIGRATIONS / name).read_text("utf-8")
        predicate = re.search(r"status IN \(([^)]*)\)", migration)
        assert predicate is not None, name
        assert _quoted(predicate.group(1)) == {s.value for s in ACTIVE_STATUSES}, name


def test_message_states() -> None:
    assert [s.value for s in MessageState] == ["PENDING", "SENT", "FAILED"]
    assert frozenset(MessageState) - {MessageState.PENDING} == FINAL_MESSAGE_STATES
    # What the bridge reports: a final state, or a retry the workflow schedules.
    assert {o.value for o in DeliveryOutcome} == {s.value for s in FINAL_MESSAGE_STATES} | {"RETRY"}


def test_final_statuses_are_those_no_action_leaves() -> None:
    assert frozenset(s for s in TicketStatus if not allowed_actions(s)) == FINAL_STATUSES
    assert TERMINAL_STATUSES - {TicketStatus.NO_SHOW} == FINAL_STATUSES
    # A no-show recalled once is final too, though its status says NO_SHOW.
    assert not allowed_actions(TicketStatus.NO_SHOW, recalls=1)


def test_being_served_is_active_but_not_waiting() -> None:
    assert {TicketStatus.CALLED, TicketStatus.IN_SERVICE} == BEING_SERVED_STATUSES
    assert BEING_SERVED_STATUSES | WAITING_STATUSES == ACTIVE_STATUSES
    assert {AdvisorStatus.AVAILABLE, AdvisorStatus.BUSY} == SERVING_ADVISOR_STATUSES


@pytest.mark.parametrize(
    ("sql_list", "domain_set"),
    [
        (statuses.ACTIVE, ACTIVE_STATUSES),
        (statuses.WAITING, WAITING_STATUSES),
        (statuses.BEING_SERVED, BEING_SERVED_STATUSES),
        (statuses.SERVING_ADVISORS, SERVING_ADVISOR_STATUSES),
    ],
)
def test_sql_lists_equal_the_domain_sets(sql_list: list[str], domain_set: frozenset) -> None:
    assert set(sql_list) == {s.value for s in domain_set}
    assert len(sql_list) == len(domain_set)
    assert all(type(v) is str for v in sql_list)  # plain strings bind as varchar[]
    declared = [m.value for m in type(next(iter(domain_set)))]
    assert sql_list == sorted(sql_list, key=declared.index)


def test_an_empty_list_is_refused() -> None:
    with pytest.raises(ValueError):
        statuses.values([])


def test_no_sql_spells_a_status() -> None:
    offenders = []
    for package in SQL_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if _quoted(line) & ALL_VALUES:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
