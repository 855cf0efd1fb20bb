"""Opening hours per weekday, holidays and the next opening, in the branch's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.hours import (
    BranchSchedule,
    DayHours,
    accepts_tickets,
    describe_opening,
    describe_opening_es,
    is_open,
    next_opening,
)

SANTIAGO = "America/Santiago"
WEEKDAYS_9_14 = tuple(DayHours(d, time(9), time(14)) for d in range(5))


def santiago(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(SANTIAGO))  # type: ignore[misc]


def branch(**kwargs: object) -> BranchSchedule:
    return BranchSchedule(SANTIAGO, weekly=WEEKDAYS_9_14, **kwargs)  # type: ignore[arg-type]


def test_open_within_the_weekday_hours_only() -> None:
    monday = santiago(2026, 11, 30, 10, 0)
    assert is_open(branch(), monday)
    assert not is_open(branch(), monday.replace(hour=8, minute=59))
    assert is_open(branch(), monday.replace(hour=9, minute=0))
    assert not is_open(branch(), monday.replace(hour=14, minute=0))
    assert not is_open(branch(), santiago(2026, 12, 5, 10, 0))  # Saturday


def test_the_reported_night_ticket_is_refused_and_told_when_to_come() -> None:
    night = santiago(2026, 11, 30, 1, 14)
    assert not accepts_tickets(branch(), night)
    opening = next_opening(branch(), night)
    assert opening == santiago(2026, 11, 30, 9, 0)
    assert describe_opening_es(opening, SANTIAGO) == "lunes 30 de noviembre a las 09:00"
    assert describe_opening(opening, SANTIAGO, "es") == "lunes 30 de noviembre a las 09:00"
    assert describe_opening(opening, SANTIAGO, "en") == "Monday, November 30 at 09:00"


def test_holidays_are_closed_and_skipped() -> None:
    christmas = frozenset({date(2026, 12, 25)})
    thursday_evening = santiago(2026, 12, 24, 15, 0)
    assert not is_open(branch(holidays=christmas), santiago(2026, 12, 25, 10, 0))
    assert next_opening(branch(holidays=christmas), thursday_evening) == santiago(
        2026, 12, 28, 9, 0
    )


def test_early_tickets_are_taken_only_within_the_branch_minutes() -> None:
    early = branch(early_minutes=30)
    assert accepts_tickets(early, santiago(2026, 11, 30, 8, 30))
    assert not accepts_tickets(early, santiago(2026, 11, 30, 8, 29))
    assert not accepts_tickets(branch(), santiago(2026, 11, 30, 8, 59))


def test_open_at_all_hours_ignores_hours_and_holidays() -> None:
    always = BranchSchedule(SANTIAGO, open_all_hours=True, holidays=frozenset({date(2026, 1, 1)}))
    assert is_open(always, santiago(2026, 1, 1, 3, 0))
    assert accepts_tickets(always, santiago(2026, 1, 1, 3, 0))


def test_closing_at_midnight_covers_the_end_of_the_day() -> None:
    whole = BranchSchedule(SANTIAGO, weekly=(DayHours(0, time(0), time(0)),))
    assert is_open(whole, santiago(2026, 11, 30, 23, 59))
    assert is_open(whole, santiago(2026, 11, 30, 0, 0))
    assert not is_open(whole, santiago(2026, 12, 1, 0, 0))


def test_a_branch_without_hours_never_opens() -> None:
    closed = BranchSchedule(SANTIAGO)
    assert next_opening(closed, santiago(2026, 11, 30, 10, 0)) is None
    assert not accepts_tickets(closed, santiago(2026, 11, 30, 10, 0))


def test_an_opening_skipped_by_daylight_saving_opens_right_after_the_gap() -> None:
    # Chile moves clocks from 24:00 to 01:00 on Sunday 6 September 2026.
    sunday = BranchSchedule(SANTIAGO, weekly=(DayHours(6, time(0, 30), time(3)),))
    before = datetime(2026, 9, 5, 12, tzinfo=UTC)
    opening = next_opening(sunday, before)
    assert opening == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)  # 01:00 -03
    assert is_open(sunday, opening)
    assert not is_open(sunday, opening - timedelta(seconds=1))


@pytest.mark.parametrize(
    "bad",
    [
        lambda: DayHours(7, time(9), time(14)),
        lambda: DayHours(0, time(14), time(9)),
        lambda: DayHours(0, time(9), time(9)),
        lambda: BranchSchedule("Mars/Olympus"),
        lambda: BranchSchedule(SANTIAGO, weekly=(*WEEKDAYS_9_14, DayHours(0, time(1), time(2)))),
        lambda: BranchSchedule(SANTIAGO, early_minutes=-1),
        lambda: is_open(branch(), datetime(2026, 1, 1, 10)),
    ],
)
def test_invalid_hours_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        bad()  # type: ignore[operator]


ZONES = st.sampled_from([SANTIAGO, "UTC", "America/New_York", "Pacific/Auckland", "Asia/Kolkata"])
TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@st.composite
def day_hours(draw: st.DrawFn, weekday: int) -> DayHours:
    opens = draw(TIMES)
    closes = draw(TIMES)
    assume(closes == time(0) or closes > opens)
    return DayHours(weekday, opens, closes)


@st.composite
def schedules(draw: st.DrawFn) -> BranchSchedule:
    days = draw(st.sets(st.integers(0, 6), max_size=7))
    weekly = tuple(draw(day_hours(d)) for d in sorted(days))
    holidays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2028, 12, 31)), max_size=20))
    return BranchSchedule(
        draw(ZONES), weekly=weekly, holidays=holidays, early_minutes=draw(st.integers(0, 120))
    )


INSTANTS = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@settings(max_examples=300, deadline=None)
@given(schedules(), INSTANTS)
def test_next_opening_is_open_not_earlier_and_nothing_opens_in_between(
    schedule: BranchSchedule, at: datetime
) -> None:
    opening = next_opening(schedule, at)
    if opening is None:
        assert not is_open(schedule, at)
        return
    assert opening >= at
    assert is_open(schedule, opening)
    if opening > at:
        # closed all the way from `at` up to the opening (checked every 7 minutes)
        probe = at
        while probe < opening:
            assert not is_open(schedule, probe)
            probe += timedelta(minutes=7)
        assert not is_open(schedule, opening - timedelta(seconds=1))


@settings(max_examples=300, deadline=None)
@given(schedules(), INSTANTS)
def test_tickets_are_taken_exactly_when_open_or_early_enough(
    schedule: BranchSchedule, at: datetime
) -> None:
    opening = next_opening(schedule, at)
    expected = opening is not None and opening - at <= timedelta(minutes=schedule.early_minutes)
    assert accepts_tickets(schedule, at) == expected
    if is_open(schedule, at):
        assert accepts_tickets(schedule, at)


@settings(max_examples=200, deadline=None)
@given(schedules(), INSTANTS)
def test_holidays_are_never_open(schedule: BranchSchedule, at: datetime) -> None:
    local_day = at.astimezone(schedule.zone).date()
    if local_day in schedule.holidays:
        assert not is_open(schedule, at)
