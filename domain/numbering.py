"""Ticket numbers and the branch-local business day they are counted in.

Sequences restart every business day in the branch's own time zone, so the day
boundaries must be computed on the local calendar, including the days on which
daylight saving time makes a day 23 or 25 hours long.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "PREFIX_PATTERN",
    "business_day",
    "business_day_bounds",
    "format_ticket_number",
    "sequence_of",
    "split_ticket_number",
]

#: A queue prefix: one to three upper-case ASCII letters (``C``, ``P``...).
PREFIX_PATTERN = re.compile(r"[A-Z]{1,3}")

_NUMBER_PATTERN = re.compile(r"(?P<prefix>[A-Z]{1,3})(?P<digits>[0-9]{2,})")


def format_ticket_number(prefix: str, sequence: int) -> str:
    """Return the display number, zero-padded to two digits and growing past 99.

    Two digits keep the common case short on displays (``C07``) without ever
    wrapping around, since a number must not repeat within a business day.
    """
    if PREFIX_PATTERN.fullmatch(prefix) is None:
        raise ValueError("ticket prefix must be 1 to 3 upper-case letters A-Z")
    if sequence < 1:
        raise ValueError("ticket sequence starts at 1")
    return f"{prefix}{sequence:02d}"


def split_ticket_number(number: str) -> tuple[str, int]:
    """Split a number made by `format_ticket_number` into prefix and sequence.

    Only the canonical spelling is accepted (``C01``, not ``C1`` or ``C001``),
    so that each ticket has exactly one number.
    """
    match = _NUMBER_PATTERN.fullmatch(number)
    if match is None:
        raise ValueError("ticket number must be a prefix followed by at least two digits")
    prefix = match["prefix"]
    sequence = int(match["digits"])
    if sequence < 1 or format_ticket_number(prefix, sequence) != number:
        raise ValueError("ticket number is not in canonical form (e.g. C01, C100)")
    return prefix, sequence


def sequence_of(number: str) -> int:
    """Return the daily sequence of a ticket number; the inverse of formatting."""
    return split_ticket_number(number)[1]


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone: {tz!r}") from exc


def business_day(now: datetime, tz: str) -> date:
    """Return the local calendar date at the branch for the aware instant `now`."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(_zone(tz)).date()


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """Return the first UTC instant whose local date is `day`.

    Local midnight can be skipped (clocks jump forward at 00:00, as in
    America/Santiago in September) or repeated, so the wall-clock time cannot
    simply be converted. A repeated midnight counts from its first occurrence;
    a skipped one starts the day at the instant the clocks jump.
    """
    midnight = datetime.combine(day, time())
    candidates = [midnight.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = [c for c in candidates if c.astimezone(zone).replace(tzinfo=None) == midnight]
    if real:
        return min(real)
    # Midnight falls in a gap: fold=1 maps to an instant before the jump (still
    # the previous day) and fold=0 to one after it. Bisect on whole seconds,
    # the resolution of time zone transitions, to find the jump itself.
    before, after = min(candidates), max(candidates)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) // 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).date() >= day:
            after = middle
        else:
            before = middle
    return after


def business_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """Return the aware UTC instants ``[start, end)`` of a branch's business day.

    The end is the start of the next local day, so consecutive days tile the
    time line without gaps or overlaps even across DST changes.
    """
    zone = _zone(tz)
    return _day_start(day, zone), _day_start(day + timedelta(days=1), zone)
