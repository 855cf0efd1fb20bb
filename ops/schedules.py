"""The operations calendar as Temporal Schedules, created or updated at worker start.

Times are local to settings.ops_time_zone (Chile changes clocks at midnight, so
02:30-04:00 is never skipped nor repeated). A missed run is caught up for one hour
at most, never stacked (overlap SKIP), and a failing backup pauses its schedule
until an operator has looked (and unpaused it in the UI or CLI).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from ops.contracts import (
    BACKUP_WORKFLOW,
    MAINTENANCE_WORKFLOW,
    SCHEDULE_BACKUP,
    SCHEDULE_DAILY,
    SCHEDULE_MONTHLY,
    SCHEDULE_WEEKLY,
    BackupRequest,
    MaintenanceRequest,
    ops_task_queue,
)
from settings import Settings

log = logging.getLogger("ticketero.ops.schedules")

CATCHUP_WINDOW = timedelta(hours=1)
#: A run that has not finished in this long is stuck; the next one must be able to start.
RUN_TIMEOUT = timedelta(hours=12)


@dataclass(frozen=True)
class Planned:
    schedule_id: str
    workflow: str
    arg: BaseModel
    #: Prefix of the started workflows' ids: the `<kind>` of a manual run's
    #: `<kind>-<UTC yyyymmddThhmmssZ>`. The server appends the scheduled time in its own
    #: form, so a scheduled run reads `maintenance-daily-2026-11-30T07:00:00Z` and a
    #: manual one `maintenance-daily-20261130T071621Z`: same prefix, UTC either way.
    workflow_id: str
    calendar: ScheduleCalendarSpec
    pause_on_failure: bool = False


def _at(
    hour: int, minute: int, *, weekday: int | None = None, day: int | None = None
) -> ScheduleCalendarSpec:
    """hh:mm every day, or on one weekday (0 = Sunday), or on one day of the month."""
    return ScheduleCalendarSpec(
        hour=[ScheduleRange(hour)],
        minute=[ScheduleRange(minute)],
        day_of_week=[ScheduleRange(weekday)] if weekday is not None else [ScheduleRange(0, 6)],
        day_of_month=[ScheduleRange(day)] if day is not None else [ScheduleRange(1, 31)],
    )


PLAN = (
    Planned(
        SCHEDULE_BACKUP,
        BACKUP_WORKFLOW,
        BackupRequest(reason="scheduled"),
        "backup",
        _at(2, 30),
        pause_on_failure=True,
    ),
    Planned(
        SCHEDULE_DAILY,
        MAINTENANCE_WORKFLOW,
        MaintenanceRequest(routine="daily"),
        "maintenance-daily",
        _at(3, 0),
    ),
    Planned(
        SCHEDULE_WEEKLY,
        MAINTENANCE_WORKFLOW,
        MaintenanceRequest(routine="weekly"),
        "maintenance-weekly",
        _at(3, 30, weekday=0),  # Sunday
    ),
    Planned(
        SCHEDULE_MONTHLY,
        MAINTENANCE_WORKFLOW,
        MaintenanceRequest(routine="monthly"),
        "maintenance-monthly",
        _at(4, 0, day=1),
    ),
)


def build_schedule(planned: Planned, settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            planned.workflow,
            planned.arg,
            id=planned.workflow_id,
            task_queue=ops_task_queue(settings),
            execution_timeout=RUN_TIMEOUT,
        ),
        spec=ScheduleSpec(calendars=[planned.calendar], time_zone_name=settings.ops_time_zone),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            catchup_window=CATCHUP_WINDOW,
            pause_on_failure=planned.pause_on_failure,
        ),
    )


async def register_schedules(client: Client, settings: Settings) -> list[str]:
    """Create each schedule, or update it in place when it exists (never a duplicate).

    An update keeps the schedule's state, so a schedule an operator paused (or that
    paused itself after a failed backup) stays paused across worker restarts.
    Returns the schedule ids.
    """
    ids = []
    for planned in PLAN:
        schedule = build_schedule(planned, settings)
        try:
            await client.create_schedule(planned.schedule_id, schedule)
            log.info("schedule %s created", planned.schedule_id)
        except ScheduleAlreadyRunningError:

            def keep_state(
                current: ScheduleUpdateInput, new: Schedule = schedule
            ) -> ScheduleUpdate:
                state = current.description.schedule.state
                return ScheduleUpdate(schedule=replace(new, state=state))

            await client.get_schedule_handle(planned.schedule_id).update(keep_state)
            log.info("schedule %s updated", planned.schedule_id)
        ids.append(planned.schedule_id)
    return ids
