"""Client side of the operations workflows, shared by the `ticketero` CLI and the operator API.

Starting (ids `<kind>-<UTC timestamp>`, ops task queue, Temporal UI links),
following a run through its history, the live status of a run that has not
stored a report yet, and the schedules.

Long because starting, following and describing runs and schedules share the id scheme,
the exclusive-lock handling and the Temporal UI links at the top.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, ScheduleHandle, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from ops.contracts import (
    EXCLUSIVE_ID,
    EXCLUSIVE_WORKFLOW,
    EXCLUSIVE_WORKFLOWS,
    ExclusiveRequest,
    OpsReport,
    ops_task_queue,
    ops_workflow_id,
)
from settings import Settings

#: Seconds without a worker picking a started run up before `follow` says so.
NO_WORKER_HINT_SECONDS = 10.0
#: Deploys, rollbacks and restores change what runs or the data: never two at once.
EXCLUSIVE = EXCLUSIVE_WORKFLOWS


class OperationConflict(Exception):
    """The operation cannot start now (the same id exists, or a deploy is running)."""

    def __init__(self, message: str, running: str = "") -> None:
        super().__init__(message)
        #: The run holding the way (its workflow id).
        self.running = running


class NotFound(Exception):
    """No such workflow or schedule."""


@dataclass(frozen=True)
class Started:
    workflow_id: str
    temporal_url: str


def temporal_url(settings: Settings, workflow_id: str) -> str:
    """The run's page in the Temporal UI."""
    base = settings.temporal_ui_url.rstrip("/")
    ns = quote(settings.temporal_namespace, safe="")
    return f"{base}/namespaces/{ns}/workflows/{quote(workflow_id, safe='')}"


async def _holder(client: Client) -> str:
    """The operation that holds the exclusive id now (from the lock's memo)."""
    with contextlib.suppress(RPCError, KeyError, TypeError):
        desc = await client.get_workflow_handle(EXCLUSIVE_ID).describe()
        return str(await desc.memo_value("operation"))
    return EXCLUSIVE_ID


async def start_operation(
    client: Client, settings: Settings, workflow: str, request: BaseModel, kind: str
) -> Started:
    """Start `workflow` (by name) on the ops task queue as `<kind>-<UTC timestamp>`.

    Deploy, rollback and restore start under the one fixed id `ops-exclusive` (a lock
    workflow running the operation as its child): the server refuses a second one
    while it runs (id conflict policy FAIL), atomically; OperationConflict names it.
    """
    workflow_id = ops_workflow_id(kind, datetime.now(UTC))
    if workflow in EXCLUSIVE:
        try:
            await client.start_workflow(
                EXCLUSIVE_WORKFLOW,
                ExclusiveRequest(
                    workflow=workflow,
                    workflow_id=workflow_id,
                    request=request.model_dump(mode="json"),
                ),
                id=EXCLUSIVE_ID,
                task_queue=ops_task_queue(settings),
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                memo={"operation": workflow_id},
            )
        except WorkflowAlreadyStartedError as err:
            running = await _holder(client)
            raise OperationConflict(
                f"{running} is still running; wait for it to finish"
                " (deploy, rollback and restore run one at a time)",
                running,
            ) from err
        return Started(workflow_id, temporal_url(settings, workflow_id))
    try:
        await client.start_workflow(
            workflow,
            request,
            id=workflow_id,
            task_queue=ops_task_queue(settings),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError as err:
        raise OperationConflict(
            f"{workflow_id} already exists; retry in a second", workflow_id
        ) from err
    return Started(workflow_id, temporal_url(settings, workflow_id))


# --- the state of a run -----------------------------------------------------------


@dataclass(frozen=True)
class LiveRun:
    """A run as Temporal describes it; `report` is its result once completed."""

    workflow_id: str
    workflow_type: str
    status: str
    started_at: datetime | None
    closed_at: datetime | None
    report: OpsReport | None = None


async def live_run(client: Client, workflow_id: str) -> LiveRun | None:
    """Temporal's view of a run, or None when the id is unknown."""
    handle = client.get_workflow_handle(workflow_id, result_type=OpsReport)
    try:
        desc = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    status = desc.status.name if desc.status is not None else "UNKNOWN"
    report = None
    if desc.status == WorkflowExecutionStatus.COMPLETED:
        with contextlib.suppress(Exception):  # a result of another shape: status only
            report = await handle.result()
    return LiveRun(
        workflow_id=workflow_id,
        workflow_type=desc.workflow_type,
        status=status,
        started_at=desc.start_time,
        closed_at=desc.close_time,
        report=report,
    )


# --- following a run --------------------------------------------------------------


@dataclass
class _Names:
    """What each scheduled activity or child was, by its scheduling event id."""

    names: dict[int, str] = field(default_factory=dict)
    times: dict[int, datetime] = field(default_factory=dict)

    def remember(self, event: HistoryEvent, name: str) -> None:
        self.names[event.event_id] = name
        self.times[event.event_id] = event.event_time.ToDatetime(tzinfo=UTC)

    def took(self, scheduled_id: int, event: HistoryEvent) -> str:
        began = self.times.get(scheduled_id)
        if began is None:
            return ""
        return f" ({(event.event_time.ToDatetime(tzinfo=UTC) - began).total_seconds():.1f}s)"


def _describe(event: HistoryEvent, seen: _Names) -> str | None:
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        name = event.activity_task_scheduled_event_attributes.activity_type.name
        seen.remember(event, name)
        return f"  ...  {name}"
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started = event.activity_task_started_event_attributes
        if started.attempt > 1:
            name = seen.names.get(started.scheduled_event_id, "activity")
            return f"  ...  {name}: attempt {started.attempt}"
        return None
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        sid = event.activity_task_completed_event_attributes.scheduled_event_id
        return f"  ok   {seen.names.get(sid, 'activity')}{seen.took(sid, event)}"
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        attrs = event.activity_task_failed_event_attributes
        name = seen.names.get(attrs.scheduled_event_id, "activity")
        return f"  FAIL {name}: {attrs.failure.message}"
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        attrs_t = event.activity_task_timed_out_event_attributes
        return f"  FAIL {seen.names.get(attrs_t.scheduled_event_id, 'activity')}: timed out"
    if kind == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        child = event.start_child_workflow_execution_initiated_event_attributes
        seen.remember(event, f"{child.workflow_type.name} {child.workflow_id}")
        return f"  ...  {child.workflow_type.name} {child.workflow_id}"
    if kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
        iid = event.child_workflow_execution_completed_event_attributes.initiated_event_id
        return f"  ok   {seen.names.get(iid, 'child workflow')}{seen.took(iid, event)}"
    if kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
        failed = event.child_workflow_execution_failed_event_attributes
        name = seen.names.get(failed.initiated_event_id, "child workflow")
        return f"  FAIL {name}: {failed.failure.message}"
    return None


_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


async def _hint_if_unserved(picked: asyncio.Event, echo: Callable[[str], None], hint: str) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(picked.wait(), NO_WORKER_HINT_SECONDS)
        return
    echo(hint)


async def _exists(client: Client, workflow_id: str) -> None:
    """Return once the workflow exists (polled; the server has no event for it)."""
    for _ in itertools.count():
        if await live_run(client, workflow_id) is not None:
            return
        await asyncio.sleep(0.25)


async def follow(
    client: Client, workflow_id: str, echo: Callable[[str], None], task_queue: str = ""
) -> LiveRun:
    """Print each step as history records it, until the run closes; then its final state.

    When no worker picks the run up within a few seconds, says which task queue waits.
    """
    handle = client.get_workflow_handle(workflow_id)
    seen = _Names()
    picked = asyncio.Event()
    hint = (
        f"  (no worker has picked it up yet; is the ops worker polling {task_queue or 'its'}"
        " task queue? it will run when one does)"
    )
    watchdog = asyncio.create_task(_hint_if_unserved(picked, echo, hint))
    try:
        # An exclusive operation exists once the ops-exclusive workflow has started it.
        await _exists(client, workflow_id)
        async for event in handle.fetch_history_events(wait_new_event=True):
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                picked.set()
            line = _describe(event, seen)
            if line is not None:
                echo(line)
            if event.event_type in _CLOSED:
                break
    finally:
        picked.set()
        await watchdog
    run = await live_run(client, workflow_id)
    if run is None:
        raise NotFound(f"workflow {workflow_id} not found")
    return run


# --- schedules --------------------------------------------------------------------


class ScheduleView(BaseModel):
    """One schedule as operators see it (camelCase in the REST answer)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    schedule_id: str
    workflow_type: str | None
    paused: bool
    note: str | None
    next_runs: list[datetime]
    recent_runs: list[dict[str, Any]]


async def list_schedules(client: Client) -> list[ScheduleView]:
    views: list[ScheduleView] = []
    async for entry in await client.list_schedules():
        schedule = entry.schedule
        action = getattr(schedule.action, "workflow", None) if schedule is not None else None
        recent = []
        for result in entry.info.recent_actions if entry.info is not None else []:
            recent.append(
                {
                    "scheduled_at": result.scheduled_at,
                    "started_at": result.started_at,
                    "workflow_id": getattr(result.action, "workflow_id", None),
                }
            )
        views.append(
            ScheduleView(
                schedule_id=entry.id,
                workflow_type=action if isinstance(action, str) else None,
                paused=bool(schedule.state.paused) if schedule is not None else False,
                note=(schedule.state.note or None) if schedule is not None else None,
                next_runs=list(entry.info.next_action_times) if entry.info is not None else [],
                recent_runs=recent,
            )
        )
    return sorted(views, key=lambda view: view.schedule_id)


async def _recent_ids(handle: ScheduleHandle) -> list[str]:
    actions = (await handle.describe()).info.recent_actions
    return [str(getattr(a.action, "workflow_id", "")) for a in actions]


async def _trigger(handle: ScheduleHandle, deadline: float) -> str | None:
    before = set(await _recent_ids(handle))
    await handle.trigger()
    loop = asyncio.get_running_loop()
    stop = loop.time() + deadline
    while loop.time() < stop:
        new = [i for i in await _recent_ids(handle) if i and i not in before]
        if new:
            return new[-1]
        await asyncio.sleep(0.25)
    return None


async def schedule_action(
    client: Client, schedule_id: str, action: str, who: str, *, deadline: float = 10.0
) -> str | None:
    """trigger, pause or resume one schedule; NotFound for an unknown id.

    A trigger returns the id of the run it started: the newest of the schedule's recent
    actions not there before, looked for until `deadline` seconds (None if not seen).
    """
    handle = client.get_schedule_handle(schedule_id)
    note = f"{action} by {who}"
    try:
        if action == "trigger":
            return await _trigger(handle, deadline)
        if action == "pause":
            await handle.pause(note=note)
        elif action == "resume":
            await handle.unpause(note=note)
        else:
            raise ValueError(f"unknown schedule action {action!r}")
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"no schedule {schedule_id!r}") from err
        raise
    return None
