"""The ticket state machine: every (state, action) pair, checked exhaustively."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.states import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    WAITING_STATUSES,
    InvalidTransition,
    TicketAction,
    TicketStatus,
    allowed_actions,
    next_status,
)

S = TicketStatus
A = TicketAction

# The whole machine written out by hand, independently of the implementation.
# Pairs missing from this table must raise InvalidTransition.
EXPECTED: dict[tuple[TicketStatus, TicketAction], TicketStatus] = {
    (S.WAITING, A.NOTIFY): S.NOTIFIED,
    (S.WAITING, A.CALL): S.CALLED,
    (S.WAITING, A.CANCEL): S.CANCELLED,
    (S.WAITING, A.TRANSFER): S.WAITING,
    (S.WAITING, A.EXPIRE): S.EXPIRED,
    (S.NOTIFIED, A.CALL): S.CALLED,
    (S.NOTIFIED, A.CANCEL): S.CANCELLED,
    (S.NOTIFIED, A.TRANSFER): S.WAITING,
    (S.NOTIFIED, A.EXPIRE): S.EXPIRED,
    (S.CALLED, A.START): S.IN_SERVICE,
    (S.CALLED, A.NO_SHOW): S.NO_SHOW,
    (S.CALLED, A.RECALL): S.CALLED,
    (S.CALLED, A.TRANSFER): S.WAITING,
    (S.CALLED, A.REQUEUE): S.WAITING,
    (S.CALLED, A.EXPIRE): S.EXPIRED,
    (S.IN_SERVICE, A.COMPLETE): S.COMPLETED,
    (S.IN_SERVICE, A.EXPIRE): S.EXPIRED,
    # Only while the no-show has not been recalled yet (recalls == 0).
    (S.NO_SHOW, A.RECALL): S.CALLED,
}
ALL_PAIRS = list(itertools.product(TicketStatus, TicketAction))


def expected_next(status: TicketStatus, action: TicketAction, recalls: int) -> TicketStatus | None:
    if (status, action) == (S.NO_SHOW, A.RECALL) and recalls > 0:
        return None
    return EXPECTED.get((status, action))


def test_status_and_action_values() -> None:
    assert [s.value for s in TicketStatus] == [
        "WAITING",
        "NOTIFIED",
        "CALLED",
        "IN_SERVICE",
        "COMPLETED",
        "CANCELLED",
        "NO_SHOW",
        "EXPIRED",
    ]
    assert [a.value for a in TicketAction] == [
        "NOTIFY",
        "CALL",
        "START",
        "COMPLETE",
        "CANCEL",
        "NO_SHOW",
        "RECALL",
        "TRANSFER",
        "EXPIRE",
        "REQUEUE",
    ]


def test_status_groups() -> None:
    assert {S.WAITING, S.NOTIFIED, S.CALLED, S.IN_SERVICE} == ACTIVE_STATUSES
    assert {S.WAITING, S.NOTIFIED} == WAITING_STATUSES
    assert {S.COMPLETED, S.CANCELLED, S.NO_SHOW, S.EXPIRED} == TERMINAL_STATUSES
    assert WAITING_STATUSES < ACTIVE_STATUSES
    assert set(TicketStatus) == ACTIVE_STATUSES | TERMINAL_STATUSES
    assert not ACTIVE_STATUSES & TERMINAL_STATUSES
    assert isinstance(ACTIVE_STATUSES, frozenset)


@pytest.mark.parametrize("recalls", [0, 1, 2])
@pytest.mark.parametrize(("status", "action"), ALL_PAIRS, ids=lambda v: str(v))
def test_every_transition(status: TicketStatus, action: TicketAction, recalls: int) -> None:
    expected = expected_next(status, action, recalls)
    if expected is None:
        with pytest.raises(InvalidTransition) as info:
            next_status(status, action, recalls)
        assert info.value.current is status
        assert info.value.action is action
        assert status.value in str(info.value)
    else:
        assert next_status(status, action, recalls) is expected


@pytest.mark.parametrize("recalls", [0, 1, 5])
@pytest.mark.parametrize("status", list(TicketStatus))
def test_allowed_actions_agree_with_next_status(status: TicketStatus, recalls: int) -> None:
    expected = {a for a in TicketAction if expected_next(status, a, recalls) is not None}
    assert allowed_actions(status, recalls) == expected
    assert isinstance(allowed_actions(status, recalls), frozenset)


def test_allowed_actions_examples() -> None:
    assert allowed_actions(S.WAITING) == {A.NOTIFY, A.CALL, A.CANCEL, A.TRANSFER, A.EXPIRE}
    assert allowed_actions(S.IN_SERVICE) == {A.COMPLETE, A.EXPIRE}
    assert allowed_actions(S.NO_SHOW) == {A.RECALL}
    assert allowed_actions(S.NO_SHOW, recalls=1) == frozenset()
    assert allowed_actions(S.COMPLETED) == frozenset()


def test_called_ticket_can_be_reannounced_any_number_of_times() -> None:
    for recalls in range(10):
        assert next_status(S.CALLED, A.RECALL, recalls) is S.CALLED


def test_a_no_show_is_recalled_only_once() -> None:
    assert next_status(S.NO_SHOW, A.RECALL, recalls=0) is S.CALLED
    with pytest.raises(InvalidTransition, match="only once") as info:
        next_status(S.NO_SHOW, A.RECALL, recalls=1)
    assert info.value.current is S.NO_SHOW
    assert "NO_SHOW" in str(info.value)


def test_error_message_names_state_and_action() -> None:
    with pytest.raises(InvalidTransition) as info:
        next_status(S.COMPLETED, A.CANCEL)
    assert str(info.value) == "cannot CANCEL a ticket that is COMPLETED"
    assert isinstance(info.value, Exception)


def test_negative_recalls_are_rejected() -> None:
    with pytest.raises(ValueError, match="recalls"):
        next_status(S.NO_SHOW, A.RECALL, recalls=-1)


def test_happy_path() -> None:
    status = S.WAITING
    for action in (A.NOTIFY, A.CALL, A.START, A.COMPLETE):
        status = next_status(status, action)
    assert status is S.COMPLETED


def test_missed_call_recalled_then_served() -> None:
    status = next_status(S.WAITING, A.CALL)
    status = next_status(status, A.RECALL)
    status = next_status(status, A.NO_SHOW)
    status = next_status(status, A.RECALL, recalls=0)
    status = next_status(status, A.NO_SHOW)
    assert status is S.NO_SHOW
    with pytest.raises(InvalidTransition):
        next_status(status, A.RECALL, recalls=1)


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
@pytest.mark.parametrize("action", list(TicketAction))
@pytest.mark.parametrize("recalls", [0, 1])
def test_no_action_leaves_a_terminal_state_except_one_recall_of_a_no_show(
    status: TicketStatus, action: TicketAction, recalls: int
) -> None:
    if (status, action, recalls) == (S.NO_SHOW, A.RECALL, 0):
        assert next_status(status, action, recalls) is S.CALLED
        return
    with pytest.raises(InvalidTransition):
        next_status(status, action, recalls)


@pytest.mark.parametrize("status", sorted(ACTIVE_STATUSES))
def test_every_active_ticket_can_expire_at_end_of_day(status: TicketStatus) -> None:
    assert next_status(status, A.EXPIRE) is S.EXPIRED


@given(st.lists(st.sampled_from(list(TicketAction)), max_size=40))
def test_random_action_sequences_respect_the_rules(actions: list[TicketAction]) -> None:
    """Drive one ticket with random actions, tracking recalls from NO_SHOW."""
    status, recalls = S.WAITING, 0
    for action in actions:
        try:
            new = next_status(status, action, recalls)
        except InvalidTransition:
            assert action not in allowed_actions(status, recalls)
            continue
        assert action in allowed_actions(status, recalls)
        if status in TERMINAL_STATUSES:
            # The only way out of a terminal state is the single no-show recall.
            assert (status, action, new, recalls) == (S.NO_SHOW, A.RECALL, S.CALLED, 0)
            recalls += 1
        status = new
    if status is S.NO_SHOW:
        assert allowed_actions(status, recalls) <= {A.RECALL}
    elif status in TERMINAL_STATUSES:
        assert allowed_actions(status, recalls) == frozenset()
