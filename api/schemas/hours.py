"""Opening hours on the wire: weekly hours by weekday name, holidays, the rules
(`POST /api/branches`, `PUT /api/branches/{branch}` and the branch settings)."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from api.schemas.common import CamelModel, HourMinute
from db.hours import BranchHoursRow, Holiday
from domain.hours import MAX_EARLY_MINUTES, DayHours
from domain.text import clean_text

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
Weekday = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
EarlyMinutes = Annotated[int, Field(ge=0, le=MAX_EARLY_MINUTES)]


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("debe ser una hora local sin zona horaria (HH:MM)")
    return value


def _name(value: str) -> str:
    return clean_text(value, max_length=100)


class DayHoursBody(CamelModel):
    weekday: Weekday
    opens: Annotated[HourMinute, AfterValidator(_naive)]
    closes: Annotated[HourMinute, AfterValidator(_naive)] = Field(
        description="after opens; 00:00 closes at midnight"
    )

    @model_validator(mode="after")
    def _order(self) -> DayHoursBody:
        if self.closes != time(0) and self.closes <= self.opens:
            raise ValueError("closes debe ser posterior a opens (00:00 cierra a medianoche)")
        return self

    def domain(self) -> DayHours:
        return DayHours(WEEKDAYS.index(self.weekday), self.opens, self.closes)


class HolidayBody(CamelModel):
    day: date
    name: Annotated[str, AfterValidator(_name)]

    def domain(self) -> Holiday:
        return Holiday(self.day, self.name)


def weekly_hours(days: list[DayHoursBody]) -> tuple[DayHours, ...]:
    """The domain hours; a weekday given twice is a 422."""
    names = [d.weekday for d in days]
    if len(names) != len(set(names)):
        raise ValueError("cada día de la semana puede aparecer una sola vez")
    return tuple(d.domain() for d in days)


class BranchHoursOut(CamelModel):
    weekly_hours: list[DayHoursBody]
    holidays: list[HolidayBody]
    open_all_hours: bool
    early_minutes: int

    @classmethod
    def of(cls, row: BranchHoursRow) -> BranchHoursOut:
        return cls(
            weekly_hours=[
                DayHoursBody(weekday=WEEKDAYS[d.weekday], opens=d.opens, closes=d.closes)
                for d in row.schedule.weekly
            ],
            holidays=[HolidayBody(day=h.day, name=h.name) for h in row.holidays],
            open_all_hours=row.schedule.open_all_hours,
            early_minutes=row.schedule.early_minutes,
        )
