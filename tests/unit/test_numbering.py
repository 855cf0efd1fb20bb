"""Ticket numbers and the branch-local business day, across DST changes."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.numbering import (
    business_day,
    business_day_bounds,
    format_ticket_number,
    sequence_of,
    split_ticket_number,
)

SANTIAGO = "America/Santiago"
ZONES = [
    SANTIAGO,
    "UTC",
    "Europe/Madrid",
    "America/Havana",  # DST changes at midnight: skipped and repeated midnights
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Kolkata",  # fixed half-hour offset
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "Pacific/Kiritimati",  # +14:00
    "Pacific/Pago_Pago",  # -11:00
]
HOUR = timedelta(hours=1)


# --- ticket numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "sequence", "number"),
    [
        ("C", 1, "C01"),
        ("C", 9, "C09"),
        ("C", 10, "C10"),
        ("C", 99, "C99"),
        ("C", 100, "C100"),
        ("C", 1000, "C1000"),
        ("P", 15, "P15"),
        ("GE", 7, "GE07"),
    ],
)
def test_format_ticket_number(prefix: str, sequence: int, number: str) -> None:
    assert format_ticket_number(prefix, sequence) == number
    assert sequence_of(number) == sequence
    assert split_ticket_number(number) == (prefix, sequence)


@pytest.mark.parametrize("sequence", [0, -1, -100])
def test_format_rejects_sequences_below_one(sequence: int) -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        format_ticket_number("C", sequence)


@pytest.mark.parametrize("prefix", ["", "c", "C1", "CAJA", "C ", "-"])
def test_format_rejects_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        format_ticket_number(prefix, 1)


@pytest.mark.parametrize(
    "number", ["", "C", "C1", "C00", "C001", "C0100", "01", "c01", "C01 ", " C01", "C-1", "C1a"]
)
def test_sequence_of_rejects_non_canonical_numbers(number: str) -> None:
    with pytest.raises(ValueError):
        sequence_of(number)


@given(st.from_regex(r"[A-Z]{1,3}", fullmatch=True), st.integers(min_value=1, max_value=10**7))
def test_ticket_numbers_round_trip(prefix: str, sequence: int) -> None:
    number = format_ticket_number(prefix, sequence)
    assert number.startswith(prefix)
    assert len(number) >= len(prefix) + 2
    assert split_ticket_number(number) == (prefix, sequence)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_distinct_sequences_give_distinct_numbers(a: int, b: int) -> None:
    assert (format_ticket_number("C", a) == format_ticket_number("C", b)) == (a == b)


# --- business day ------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        # 02:30 UTC is still the previous evening in Santiago (UTC-3 in summer).
        (datetime(2026, 1, 15, 2, 30, tzinfo=UTC), SANTIAGO, date(2026, 1, 14)),
        (datetime(2026, 1, 15, 3, 0, tzinfo=UTC), SANTIAGO, date(2026, 1, 15)),
        # UTC-4 in winter.
        (datetime(2026, 7, 15, 3, 59, tzinfo=UTC), SANTIAGO, date(2026, 7, 14)),
        (datetime(2026, 7, 15, 4, 0, tzinfo=UTC), SANTIAGO, date(2026, 7, 15)),
        (datetime(2026, 7, 15, 23, 0, tzinfo=UTC), "Asia/Kolkata", date(2026, 7, 16)),
        (datetime(2026, 7, 15, 23, 0, tzinfo=UTC), "UTC", date(2026, 7, 15)),
    ],
)
def test_business_day_is_the_local_date(now: datetime, tz: str, expected: date) -> None:
    assert business_day(now, tz) == expected


def test_business_day_accepts_any_aware_datetime() -> None:
    # 22:00 at UTC-3 is 01:00 UTC the next day, i.e. 22:00 in Santiago in summer.
    now = datetime(2026, 1, 14, 22, 0, tzinfo=timezone(timedelta(hours=-3)))
    assert business_day(now, SANTIAGO) == date(2026, 1, 14)


def test_business_day_requires_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        business_day(datetime(2026, 1, 15, 12, 0), SANTIAGO)


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "../etc/passwd", "america/santiago!"])
def test_unknown_time_zones_raise_value_error(tz: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        business_day(datetime(2026, 1, 15, tzinfo=UTC), tz)
    with pytest.raises(ValueError, match="time zone"):
        business_day_bounds(date(2026, 1, 15), tz)


def test_bounds_of_an_ordinary_santiago_day() -> None:
    start, end = business_day_bounds(date(2026, 1, 15), SANTIAGO)
    assert start == datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    assert end == datetime(2026, 1, 16, 3, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("day", "start", "hours"),
    [
        # Summer time ends at 00:00 on 2026-04-05: clocks go back to 23:00 on
        # the 4th, which therefore lasts 25 hours.
        (date(2026, 4, 4), datetime(2026, 4, 4, 3, 0, tzinfo=UTC), 25),
        (date(2026, 4, 5), datetime(2026, 4, 5, 4, 0, tzinfo=UTC), 24),
        # Summer time starts at 00:00 on 2026-09-06: clocks jump to 01:00, so
        # the 6th starts at 01:00 local time and lasts 23 hours.
        (date(2026, 9, 5), datetime(2026, 9, 5, 4, 0, tzinfo=UTC), 24),
        (date(2026, 9, 6), datetime(2026, 9, 6, 4, 0, tzinfo=UTC), 23),
        (date(2026, 9, 7), datetime(2026, 9, 7, 3, 0, tzinfo=UTC), 24),
    ],
)
def test_santiago_bounds_across_dst_changes(day: date, start: datetime, hours: int) -> None:
    got_start, got_end = business_day_bounds(day, SANTIAGO)
    assert got_start == start
    assert got_end - got_start == timedelta(hours=hours)


def test_santiago_transition_dates_are_the_ones_tested() -> None:
    zone = ZoneInfo(SANTIAGO)
    offsets = {
        moment: moment.astimezone(zone).utcoffset()
        for moment in (
            datetime(2026, 4, 5, 2, 59, tzinfo=UTC),
            datetime(2026, 4, 5, 3, 0, tzinfo=UTC),
            datetime(2026, 9, 6, 3, 59, tzinfo=UTC),
            datetime(2026, 9, 6, 4, 0, tzinfo=UTC),
        )
    }
    assert list(offsets.values()) == [-3 * HOUR, -4 * HOUR, -4 * HOUR, -3 * HOUR]


def test_santiago_skipped_midnight_starts_the_day_at_one_local() -> None:
    start, _ = business_day_bounds(date(2026, 9, 6), SANTIAGO)
    local = start.astimezone(ZoneInfo(SANTIAGO))
    assert (local.date(), local.hour, local.minute) == (date(2026, 9, 6), 1, 0)
    assert business_day(start - timedelta(microseconds=1), SANTIAGO) == date(2026, 9, 5)
    assert business_day(start, SANTIAGO) == date(2026, 9, 6)


def test_santiago_repeated_hour_stays_in_the_same_day() -> None:
    # 23:xx local on 2026-04-04 happens twice; both belong to the 4th.
    start, end = business_day_bounds(date(2026, 4, 4), SANTIAGO)
    first = datetime(2026, 4, 5, 2, 30, tzinfo=UTC)
    second = first + HOUR
    for moment in (first, second):
        assert moment.astimezone(ZoneInfo(SANTIAGO)).hour == 23
        assert business_day(moment, SANTIAGO) == date(2026, 4, 4)
        assert start <= moment < end


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("Europe/Madrid", date(2026, 3, 29), 23),
        ("Europe/Madrid", date(2026, 10, 25), 25),
        ("America/Havana", date(2026, 3, 8), 23),  # midnight skipped
        ("America/Havana", date(2026, 11, 1), 25),  # midnight repeated
        ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),
        ("UTC", date(2026, 4, 5), 24),
        ("Pacific/Apia", date(2011, 12, 29), 24),
        ("Pacific/Apia", date(2011, 12, 30), 0),  # this date never happened in Samoa
        ("Pacific/Apia", date(2011, 12, 31), 24),
    ],
)
def test_day_lengths_in_other_zones(tz: str, day: date, hours: float) -> None:
    start, end = business_day_bounds(day, tz)
    assert end - start == timedelta(hours=hours)


def test_repeated_midnight_counts_from_its_first_occurrence() -> None:
    start, _ = business_day_bounds(date(2026, 11, 1), "America/Havana")
    assert start == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert business_day(start - timedelta(microseconds=1), "America/Havana") == date(2026, 10, 31)


instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2037, 12, 31),
    timezones=st.just(UTC),
)


@settings(deadline=None)
@given(instants, st.sampled_from(ZONES))
def test_every_instant_lies_within_the_bounds_of_its_business_day(now: datetime, tz: str) -> None:
    day = business_day(now, tz)
    start, end = business_day_bounds(day, tz)
    assert start <= now < end
    assert start.tzinfo is UTC
    assert end.tzinfo is UTC
    assert business_day(start, tz) == day
    assert business_day(end, tz) > day
    assert business_day(end - timedelta(microseconds=1), tz) == day


@settings(deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 30)), st.sampled_from(ZONES))
def test_consecutive_days_tile_the_time_line(day: date, tz: str) -> None:
    start, end = business_day_bounds(day, tz)
    next_start, _ = business_day_bounds(day + timedelta(days=1), tz)
    assert end == next_start
    assert timedelta(0) <= end - start <= timedelta(hours=26)
