"""Opening hours of a branch: per weekday, holidays, in the branch's own time zone.

A branch is open at an instant when, on the local calendar day of that instant (its
IANA zone, daylight saving time included), the day is not a holiday and the local
wall-clock time falls in that weekday's ``[opens, closes)``. ``closes == 00:00`` means
midnight at the end of the day (``00:00-00:00`` is the whole day); a weekday without
hours is closed. A branch "open at all hours" ignores both hours and holidays.

Ticket creation follows `accepts_tickets`: open, or at most ``early_minutes`` before
the next opening (some branches let the line form before the doors open).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_EARLY_MINUTES",
    "BranchSchedule",
    "DayHours",
    "accepts_tickets",
    "describe_opening",
    "describe_opening_es",
    "is_open",
    "next_opening",
]

#: How far ahead `next_opening` looks: a branch closed for longer has no next opening.
HORIZON_DAYS = 400
#: At most this many minutes of "takes tickets early" (half a day).
MAX_EARLY_MINUTES = 12 * 60

_MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class DayHours:
    """Hours of one weekday (0 = Monday ... 6 = Sunday), local wall-clock times."""

    weekday: int
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes are local wall-clock times without a time zone")
        if self.closes != _MIDNIGHT and self.closes <= self.opens:
            raise ValueError("closes must be after opens (00:00 closes at midnight)")

    def contains(self, local: time) -> bool:
        wall = local.replace(tzinfo=None, fold=0)
        return self.opens <= wall and (self.closes == _MIDNIGHT or wall < self.closes)


@dataclass(frozen=True)
class BranchSchedule:
    """A branch's weekly hours, holidays and ticket-taking rules."""

    time_zone: str
    weekly: tuple[DayHours, ...] = ()
    holidays: frozenset[date] = field(default_factory=frozenset)
    open_all_hours: bool = False
    early_minutes: int = 0

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone: {self.time_zone!r}") from exc
        days = [d.weekday for d in self.weekly]
        if len(days) != len(set(days)):
            raise ValueError("one set of hours per weekday")
        if not 0 <= self.early_minutes <= MAX_EARLY_MINUTES:
            raise ValueError(f"early_minutes must be 0 to {MAX_EARLY_MINUTES}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def hours_on(self, day: date) -> DayHours | None:
        """The hours of a local calendar day; None when closed all day (or a holiday)."""
        if day in self.holidays:
            return None
        return next((d for d in self.weekly if d.weekday == day.weekday()), None)


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the instant must be timezone-aware")


def is_open(schedule: BranchSchedule, at: datetime) -> bool:
    """Tell whether the branch is open at the instant `at` (timezone-aware)."""
    _require_aware(at)
    if schedule.open_all_hours:
        return True
    local = at.astimezone(schedule.zone)
    hours = schedule.hours_on(local.date())
    return hours is not None and hours.contains(local.time())


def next_opening(schedule: BranchSchedule, at: datetime) -> datetime | None:
    """The earliest instant at or after `at` when the branch is open (`at` itself when it
    is open now), in UTC; None when it does not open within `HORIZON_DAYS`.

    An opening time that does not exist locally (skipped by a daylight saving change)
    opens at the first instant after the gap that falls within the day's hours.
    """
    _require_aware(at)
    if is_open(schedule, at):
        return at.astimezone(UTC)
    zone = schedule.zone
    today = at.astimezone(zone).date()
    for offset in range(HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        hours = schedule.hours_on(day)
        if hours is None:
            continue
        candidate = _first_open_instant(schedule, day, hours)
        if candidate is not None and candidate >= at:
            return candidate
    return None


def _first_open_instant(schedule: BranchSchedule, day: date, hours: DayHours) -> datetime | None:
    zone = schedule.zone
    early = datetime.combine(day, hours.opens, tzinfo=zone).astimezone(UTC)
    if early.astimezone(zone).time() == hours.opens:
        return early
    # The opening wall time was skipped: walk the gap minute by minute (gaps are short
    # and transitions fall on whole minutes) to the first instant within the hours.
    late = datetime.combine(day, hours.opens, tzinfo=zone).replace(fold=1).astimezone(UTC)
    start, end = min(early, late), max(early, late)
    probe = start.replace(second=0, microsecond=0)
    while probe <= end:
        if probe.astimezone(zone).date() == day and is_open(schedule, probe):
            return probe
        probe += timedelta(minutes=1)
    return None


def accepts_tickets(schedule: BranchSchedule, at: datetime) -> bool:
    """Open at `at`, or opening within the branch's `early_minutes` after it."""
    opening = next_opening(schedule, at)
    if opening is None:
        return False
    return opening - at <= timedelta(minutes=schedule.early_minutes)


_WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_MONTHS_ES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def describe_opening_es(opening: datetime, time_zone: str) -> str:
    """`lunes 1 de diciembre a las 09:00` in the branch's zone (es-CL, 24-hour clock)."""
    local = opening.astimezone(ZoneInfo(time_zone))
    weekday = _WEEKDAYS_ES[local.weekday()]
    month = _MONTHS_ES[local.month - 1]
    return f"{weekday} {local.day} de {month} a las {local:%H:%M}"


def describe_opening(opening: datetime, time_zone: str, language: str) -> str:
    """The next opening in words in `language` (es by default), in the branch's zone:
    `lunes 1 de diciembre a las 09:00` / `Monday, December 1 at 09:00`."""
    if language != "en":
        return describe_opening_es(opening, time_zone)
    local = opening.astimezone(ZoneInfo(time_zone))
    weekday = _WEEKDAYS_EN[local.weekday()]
    month = _MONTHS_EN[local.month - 1]
    return f"{weekday}, {month} {local.day} at {local:%H:%M}"
