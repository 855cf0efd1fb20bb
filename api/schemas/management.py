"""Bodies of what a supervisor configures: branch hours and time zone, queue settings,
advisors.

Request bodies validate every field with a Spanish message naming it; explicit
nulls are refused (leave a field out to keep its value). Long because branches, queues
and advisors each have their bodies and validation messages here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from api.errors import ApiError
from api.schemas.common import CamelModel, HourMinute
from api.schemas.hours import (
    BranchHoursOut,
    DayHoursBody,
    EarlyMinutes,
    HolidayBody,
    weekly_hours,
)
from db.advisors import NewAdvisor
from db.hours import HoursEdit
from domain.queues import QueueName, parse_queue
from domain.states import AdvisorStatus
from domain.text import text_problem

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")
_QUEUES = ", ".join(q.value for q in QueueName)


def _between(low: float, high: float) -> AfterValidator:
    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"debe estar entre {low:g} y {high:g}")
        return value

    return AfterValidator(check)


def _text(max_length: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if text_problem(value) is not None:
            raise ValueError("no debe contener caracteres de control ni de dirección de texto")
        collapsed = " ".join(value.split())
        if not 1 <= len(collapsed) <= max_length:
            raise ValueError(f"debe tener entre 1 y {max_length} caracteres")
        return collapsed

    return check


Desk = Annotated[int, _between(1, 999)]
Name = Annotated[str, AfterValidator(_text(100))]


def _queue_list(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"debe ser una lista no vacía de colas ({_QUEUES})")
    queues: list[str] = []
    for raw in value:
        try:
            queue = parse_queue(raw if isinstance(raw, str) else "").value
        except ValueError:
            raise ValueError(f"cola desconocida {str(raw)[:40]!r}; use {_QUEUES}") from None
        if queue not in queues:
            queues.append(queue)
    return queues


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("no puede ser nulo; omita el campo para conservar su valor")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


# --- branches ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("debe ser una hora local sin zona horaria (HH:MM)")
    return value


LocalTime = Annotated[time, AfterValidator(_naive)]


class BranchEdit(_Body):
    model_config = ConfigDict(extra="forbid")

    time_zone: str | None = None
    opens_at: LocalTime | None = Field(
        default=None, description="with closesAt: the hours of every weekday that opens"
    )
    closes_at: LocalTime | None = None
    weekly_hours: list[DayHoursBody] | None = Field(
        default=None, description="replaces the weekly hours; a weekday left out is closed"
    )
    holidays: list[HolidayBody] | None = Field(default=None, description="replaces the holidays")
    open_all_hours: bool | None = None
    early_minutes: EarlyMinutes | None = None

    @field_validator("weekly_hours")
    @classmethod
    def _one_per_day(cls, value: list[DayHoursBody] | None) -> list[DayHoursBody] | None:
        if value is not None:
            weekly_hours(value)
        return value

    def hours(self) -> HoursEdit:
        """The hours part of the edit (what `changes()` leaves to the branch columns)."""
        return HoursEdit(
            weekly=None if self.weekly_hours is None else weekly_hours(self.weekly_hours),
            holidays=None if self.holidays is None else tuple(h.domain() for h in self.holidays),
            open_all_hours=self.open_all_hours,
            early_minutes=self.early_minutes,
        )

    def changes(self) -> dict[str, Any]:
        found = super().changes()
        for key in ("weekly_hours", "holidays", "open_all_hours", "early_minutes"):
            found.pop(key, None)
        return found

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value.strip() not in _zones():
            raise ValueError("debe ser una zona horaria IANA válida, por ejemplo America/Santiago")
        return None if value is None else value.strip()


class QueueEdit(_Body):
    """The prefix is read-only: numbers already issued today carry it."""

    model_config = ConfigDict(extra="forbid")

    prefix: str | None = Field(default=None, description="read-only")
    avg_service_minutes: Annotated[float, _between(0.5, 480)] | None = Field(
        default=None, description="0.5 to 480; restarts the measured average"
    )
    priority: Annotated[int, _between(1, 10)] | None = Field(default=None, description="1 to 10")
    notify_threshold: Annotated[int, _between(1, 50)] | None = Field(
        default=None, description="1 to 50"
    )
    target_wait_minutes: Annotated[int, _between(1, 480)] | None = Field(
        default=None, description="1 to 480"
    )
    no_show_seconds: Annotated[int, _between(30, 3600)] | None = Field(
        default=None, description="30 to 3600"
    )

    @field_validator("prefix")
    @classmethod
    def _read_only(cls, value: str | None) -> str | None:
        raise ValueError("no se puede modificar: los números ya emitidos usan este prefijo")

    def changes(self) -> dict[str, Any]:
        found = super().changes()
        if "avg_service_minutes" in found:
            found["avg_service_seconds"] = found.pop("avg_service_minutes") * 60.0
        return found


class QueueSettingsOut(CamelModel):
    queue: str
    prefix: str
    avg_service_minutes: float
    service_samples: int
    priority: int
    notify_threshold: int
    target_wait_minutes: int
    no_show_seconds: int


class BranchOut(CamelModel):
    id: int
    name: str
    time_zone: str
    opens_at: HourMinute
    closes_at: HourMinute
    queues: list[QueueSettingsOut]
    hours: BranchHoursOut | None = Field(
        default=None, description="weekly hours, holidays, early minutes, open at all hours"
    )


# --- advisors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AdvisorLogin:
    """The user to create with a new advisor."""

    username: str
    password: str


def _email(value: str) -> str:
    email = value.strip()
    if len(email) > 200 or _EMAIL.fullmatch(email) is None:
        raise ValueError("debe ser un correo válido, por ejemplo nombre@banco.cl")
    return email


def _username(value: str) -> str:
    name = value.strip()
    if _USERNAME.fullmatch(name) is None:
        raise ValueError("debe tener 1 a 100 caracteres: letras, dígitos, '.', '_', '-' o '@'")
    return name


def _password(value: str) -> str:
    if not 8 <= len(value) <= 200:
        raise ValueError("debe tener entre 8 y 200 caracteres")
    return value


class AdvisorCreate(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    name: Name
    email: Annotated[str, AfterValidator(_email)]
    desk: Desk
    queues: list[str]
    branch_office: Name
    username: Annotated[str, AfterValidator(_username)] | None = None
    password: Annotated[str, AfterValidator(_password)] | None = None

    @field_validator("queues", mode="before")
    @classmethod
    def _queues(cls, value: object) -> list[str]:
        return _queue_list(value)

    def advisor(self) -> NewAdvisor:
        return NewAdvisor(name=self.name, email=self.email, desk=self.desk, queues=self.queues)

    def login(self) -> AdvisorLogin | None:
        """The user to create with the advisor: both fields or neither."""
        if self.username is None and self.password is None:
            return None
        if self.password is None:
            raise ApiError(422, "user.password_required", field="password")
        if self.username is None:
            raise ApiError(422, "user.username_required", field="username")
        return AdvisorLogin(self.username, self.password)


class AdvisorPatch(_Body):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    desk: Desk | None = None
    queues: list[str] | None = None
    active: bool | None = None

    @field_validator("queues", mode="before")
    @classmethod
    def _queues(cls, value: object) -> list[str]:
        return _queue_list(value)


class AdvisorOut(CamelModel):
    id: int
    branch_office: str
    name: str
    email: str
    desk: int
    queues: list[str]
    status: AdvisorStatus
    status_since: datetime
    active: bool
    current_ticket: uuid.UUID | None
    current_ticket_number: str | None
    username: str | None
    created_at: datetime
