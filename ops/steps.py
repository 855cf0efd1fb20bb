"""The step toolkit the operations workflows share: step options, running a step's
activity, the report's outcome, storing and alerting, taking a verified backup.

Runs inside workflows, so it is deterministic and imports no I/O. The archive name
is decided in `take_backup`, once, from workflow.now(): a retried or resumed dump
activity gets the same name and finds its own finished archive instead of making a
second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from ops.contracts import (
        ALERT_REFUSED,
        BACKUP_CORRUPT,
        BACKUP_DUMP,
        BACKUP_REFUSED,
        BACKUP_VERIFY,
        REPORT_NOTIFY,
        REPORT_STORE,
        ArchiveRef,
        DumpJob,
        OpsReport,
        Step,
        Variant,
        backup_file_name,
    )
    from ops.search import OPS_KIND, OPS_OUTCOME

T = TypeVar("T")

#: Errors no retry can fix (bad name, corrupt archive, chat refusing the alert).
FINAL_ERRORS = [BACKUP_REFUSED, BACKUP_CORRUPT, ALERT_REFUSED]
#: Long steps heartbeat every 2 s; a silent worker is given up on after this.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)


@dataclass(frozen=True)
class StepOptions:
    """Timeouts and retries of one kind of step."""

    start_to_close: timedelta
    retry: RetryPolicy
    heartbeat: timedelta | None = None
    schedule_to_close: timedelta | None = None
    #: TRY_CANCEL hands the workflow its CancelledError at once, while the activity may
    #: still run; destructive steps wait until the activity has really stopped.
    cancellation: workflow.ActivityCancellationType = workflow.ActivityCancellationType.TRY_CANCEL


#: Dumps, restores, VACUUM: a cancelled one is waited for (its psql/pg_dump killed and
#: reaped) before anything else, such as switching maintenance off, may run.
LONG_STEP = StepOptions(
    start_to_close=timedelta(hours=6),
    heartbeat=HEARTBEAT_TIMEOUT,
    cancellation=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=5),
        maximum_interval=timedelta(minutes=1),
        maximum_attempts=10,
        non_retryable_error_types=FINAL_ERRORS,
    ),
)
SHORT_STEP = StepOptions(
    start_to_close=timedelta(minutes=10),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=3,
        non_retryable_error_types=FINAL_ERRORS,
    ),
)
#: Bookkeeping that must happen (report, maintenance switch off): retried for an hour.
MUST_RUN = StepOptions(
    start_to_close=timedelta(minutes=1),
    schedule_to_close=timedelta(hours=1),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=30),
        non_retryable_error_types=FINAL_ERRORS,
    ),
)


async def call(activity: str, *args: Any, result_type: type[T], options: StepOptions) -> T:
    """Execute an activity by name with one of the option sets above."""
    result: T = await workflow.execute_activity(
        activity,
        args=list(args),
        result_type=result_type,
        start_to_close_timeout=options.start_to_close,
        schedule_to_close_timeout=options.schedule_to_close,
        heartbeat_timeout=options.heartbeat,
        retry_policy=options.retry,
        cancellation_type=options.cancellation,
    )
    return result


def stamp(moment: datetime) -> str:
    """YYYYMMDD_HHMMSS in UTC: sortable, and never repeated by a DST change."""
    return moment.strftime("%Y%m%d_%H%M%S")


def error_text(err: BaseException) -> str:
    """The innermost message of an activity/child failure (what went wrong, not where)."""
    cause: BaseException | None = err
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    return str(cause or err)[:1000]


async def run_step(
    name: str,
    activity: str,
    *args: Any,
    options: StepOptions = SHORT_STEP,
) -> Step:
    """Run one step's activity; a failure (after its retries) becomes a failed Step.

    A cancellation is not a failure: it is re-raised, so the run stops here (its
    compensation in `finally` runs once a destructive step has really stopped).
    """
    started = workflow.now()
    try:
        step = await call(activity, *args, result_type=Step, options=options)
    except ActivityError as err:
        if is_cancelled_exception(err):
            raise
        return Step(
            name=name,
            outcome="failed",
            detail=error_text(err),
            started_at=started,
            finished_at=workflow.now(),
        )
    if step.name != name:
        step = step.model_copy(update={"name": name})
    return step


def outcome_of(steps: Sequence[Step]) -> str:
    outcomes = {s.outcome for s in steps}
    if "failed" in outcomes:
        return "failed"
    return "alert" if "alert" in outcomes else "ok"


#: Behind this patch (runs recorded before it replay the old way), a run ends by
#: upserting its OpsKind and OpsOutcome and a memo of its summary (mark_outcome).
PATCH_OUTCOME_ATTRIBUTES = "ops-outcome-attributes"


def mark_outcome(report: OpsReport) -> None:
    """Make the outcome visible in Temporal: an "alert" run is COMPLETED there, so the
    search attribute `OpsOutcome` (and the memo's summary) tells it apart."""
    if not workflow.patched(PATCH_OUTCOME_ATTRIBUTES):
        return
    workflow.upsert_search_attributes(
        [OPS_KIND.value_set(report.kind), OPS_OUTCOME.value_set(report.outcome)]
    )
    workflow.upsert_memo({"outcome": report.outcome, "summary": report.summary})


async def finish(report: OpsReport) -> OpsReport:
    """Store the report (ops_run), then alert the operators when it is not plain ok."""
    mark_outcome(report)
    await call(REPORT_STORE, report, result_type=bool, options=MUST_RUN)
    if report.outcome != "ok":
        try:
            await call(REPORT_NOTIFY, report, result_type=Step, options=SHORT_STEP)
        except ActivityError as err:
            workflow.logger.warning("ops alert not delivered: %s", error_text(err))
    return report


async def take_backup(
    variant: Variant, *, safety: bool = False, label: str = ""
) -> tuple[list[Step], str | None]:
    """Dump and verify one archive; returns the steps and the file name (None if failed)."""
    name = backup_file_name(stamp(workflow.now()), variant, safety=safety)
    dump = await run_step(
        f"{label}dump", BACKUP_DUMP, DumpJob(file_name=name, variant=variant), options=LONG_STEP
    )
    if dump.outcome != "ok":
        return [dump], None
    verify = await run_step(
        f"{label}verify", BACKUP_VERIFY, ArchiveRef(file_name=name), options=LONG_STEP
    )
    return [dump, verify], name if verify.outcome == "ok" else None
