"""Bodies of branch registration and kiosk tokens (`api/routes/branches.py`)."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from api.errors import ApiError
from api.schemas.hours import DayHoursBody, EarlyMinutes, HolidayBody, weekly_hours
from domain.hours import DayHours
from domain.text import clean_text


def _name(value: str) -> str:
    return clean_text(value, max_length=100)


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("must be a local time without a zone (HH:MM)")
    return value


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


BranchName = Annotated[str, AfterValidator(_name)]
Label = Annotated[str, AfterValidator(_name)]
LocalTime = Annotated[time, AfterValidator(_naive)]


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class BranchCreate(_Camel):
    name: BranchName = Field(description="1 to 100 characters; unique, case-insensitive")
    time_zone: str = Field(description="IANA time zone, e.g. America/Santiago")
    opens_at: LocalTime | None = None
    closes_at: LocalTime | None = None
    weekly_hours: list[DayHoursBody] | None = Field(
        default=None,
        description="hours per weekday (a weekday left out is closed); default Monday to"
        " Friday from opensAt to closesAt",
        max_length=7,
    )
    holidays: list[HolidayBody] = Field(default_factory=list, max_length=366)
    open_all_hours: bool = Field(default=False, description="takes tickets at any time")
    early_minutes: EarlyMinutes = Field(
        default=0, description="takes tickets this many minutes before opening"
    )

    def weekly(self) -> tuple[DayHours, ...] | None:
        return None if self.weekly_hours is None else weekly_hours(self.weekly_hours)

    @field_validator("weekly_hours")
    @classmethod
    def _one_per_day(cls, value: list[DayHoursBody] | None) -> list[DayHoursBody] | None:
        if value is not None:
            weekly_hours(value)
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value.strip() not in _zones():
            raise ValueError("must be an IANA time zone, e.g. America/Santiago")
        return value.strip()

    @model_validator(mode="after")
    def _hours(self) -> BranchCreate:
        # unset hours take the column defaults (migration 0002): 09:00 and 14:00
        opens, closes = self.opens_at or time(9, 0), self.closes_at or time(14, 0)
        if opens >= closes:
            raise ApiError(422, "hours.closes_before_opens", field="closesAt")
        return self


class BranchCreated(_Camel):
    id: int
    name: str
    time_zone: str


class KioskCreate(_Camel):
    label: Label = Field(description="where the kiosk stands, 1 to 100 characters")


class KioskOut(_Camel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    branch_office: str
    label: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class KioskIssued(KioskOut):
    token: str = Field(description="send it as X-Kiosk-Token; shown only now")
