"""Schedules: created once, updated in place, and a triggered run completes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
)

from ops.contracts import (
    SCHEDULE_BACKUP,
    SCHEDULE_DAILY,
    SCHEDULE_MONTHLY,
    SCHEDULE_WEEKLY,
    OpsReport,
)
from ops.schedules import register_schedules
from settings import Settings
from tests.operations.helpers import ops_worker
from tests.support.stack import Stack
from tests.support.wait import eventually

ALL = [SCHEDULE_BACKUP, SCHEDULE_DAILY, SCHEDULE_WEEKLY, SCHEDULE_MONTHLY]


@pytest.fixture
async def schedules_on_test_queue(
    temporal: Client, ops_settings: Settings, stack: Stack
) -> AsyncIterator[list[str]]:
    """Point the stack's schedules at this test's queue; point them back afterwards."""
    ids = await register_schedules(temporal, ops_settings)
    yield ids
    stack_settings = Settings(
        _env_file=None,
        temporal_task_queue=stack.env["TEMPORAL_TASK_QUEUE"],
    )
    await register_schedules(temporal, stack_settings)


async def _listed(client: Client) -> list[str]:
    return [s.id async for s in await client.list_schedules() if s.id in ALL]


async def test_schedules_exist_once_with_their_policies(
    temporal: Client, ops_settings: Settings, schedules_on_test_queue: list[str]
) -> None:
    assert schedules_on_test_queue == ALL
    assert await register_schedules(temporal, ops_settings) == ALL  # again: update, no error
    # Two ops workers starting at the same moment (replicas): both succeed, none duplicates.
    both = await asyncio.gather(*(register_schedules(temporal, ops_settings) for _ in range(2)))
    assert both == [ALL, ALL]

    async def each_once() -> list[str] | None:
        listed = await _listed(temporal)
        return listed if sorted(listed) == sorted(ALL) else None

    listed = await eventually(each_once, timeout=15, what="the four schedules, once each")
    assert len(listed) == len(set(listed)) == 4

    expected = {
        SCHEDULE_BACKUP: (2, 30, None, None),
        SCHEDULE_DAILY: (3, 0, None, None),
        SCHEDULE_WEEKLY: (3, 30, 0, None),
        SCHEDULE_MONTHLY: (4, 0, None, 1),
    }
    for schedule_id, (hour, minute, weekday, day) in expected.items():
        desc = await temporal.get_schedule_handle(schedule_id).describe()
        spec = desc.schedule.spec
        assert spec.time_zone_name == ops_settings.ops_time_zone
        calendar = spec.calendars[0]
        assert [r.start for r in calendar.hour] == [hour]
        assert [r.start for r in calendar.minute] == [minute]
        if weekday is not None:
            assert [r.start for r in calendar.day_of_week] == [weekday]
            assert all(r.end in (0, weekday) for r in calendar.day_of_week)
        if day is not None:
            assert [r.start for r in calendar.day_of_month] == [day]
        policy = desc.schedule.policy
        assert policy.overlap == ScheduleOverlapPolicy.SKIP
        assert policy.catchup_window == timedelta(hours=1)
        assert policy.pause_on_failure is (schedule_id == SCHEDULE_BACKUP)
        action = desc.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.task_queue == ops_settings.temporal_task_queue + "-ops"


async def test_triggered_backup_schedule_runs_to_completion(
    temporal: Client, ops_settings: Settings, schedules_on_test_queue: list[str]
) -> None:
    handle = temporal.get_schedule_handle(SCHEDULE_BACKUP)
    before = len((await handle.describe()).info.recent_actions)
    async with ops_worker(temporal, ops_settings):
        await handle.trigger()

        async def started() -> str | None:
            actions = (await handle.describe()).info.recent_actions
            if len(actions) <= before:
                return None
            action = actions[-1].action
            assert isinstance(action, ScheduleActionExecutionStartWorkflow)
            return action.workflow_id

        workflow_id = await eventually(started, timeout=15, what="the triggered run")
        assert workflow_id.startswith("backup-")  # the same prefix as a manual backup
        report = await temporal.get_workflow_handle(workflow_id, result_type=OpsReport).result()
    assert report.kind == "backup" and report.outcome == "ok", report
    assert (ops_settings.backup_dir / report.steps[0].figures["file"]).is_file()
