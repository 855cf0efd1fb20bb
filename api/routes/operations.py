"""Operator REST: start backups, restores, maintenance, deploys and rollbacks; read runs
and schedules. Every route needs an operator token (401 without one, 403 for other roles).

Starting answers 202 with the workflow id and its Temporal UI link at once: the
work runs on the ops worker; `GET /runs/{workflowId}` gives its report when done.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import BaseModel
from temporalio.client import Client
from temporalio.service import RPCError

from api.auth.deps import OperatorDep
from api.deps import ResourcesDep
from api.errors import ApiError
from api.schemas.operations import (
    RunDetail,
    RunList,
    RunSummary,
    ScheduleActionResponse,
    ScheduleList,
    StartedResponse,
    StepView,
)
from ops import runs as ops_runs
from ops.client import (
    NotFound,
    OperationConflict,
    list_schedules,
    live_run,
    schedule_action,
    start_operation,
    temporal_url,
)
from ops.contracts import (
    BACKUP_WORKFLOW,
    DEPLOY_WORKFLOW,
    MAINTENANCE_WORKFLOW,
    RESTORE_WORKFLOW,
    ROLLBACK_WORKFLOW,
    BackupRequest,
    DeployRequest,
    MaintenanceRequest,
    RestoreRequest,
    RollbackRequest,
)

router = APIRouter(prefix="/api/operations", tags=["operations"])
R = TypeVar("R", BackupRequest, RestoreRequest)

WorkflowId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$")]
ScheduleId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$")]


RETRY = {"Retry-After": "5"}


async def _client(res: ResourcesDep) -> Client:
    try:
        return await res.temporal.get()
    except Exception as err:
        raise ApiError(503, "temporal.unavailable", headers=RETRY) from err


async def _start(
    res: ResourcesDep, response: Response, workflow: str, request: BaseModel, kind: str
) -> StartedResponse:
    client = await _client(res)
    try:
        started = await start_operation(client, res.settings, workflow, request, kind)
    except OperationConflict as err:
        raise ApiError(409, "ops.conflict", params={"running": err.running}) from err
    except (RPCError, TimeoutError) as err:
        raise ApiError(503, "temporal.refused_start", headers=RETRY) from err
    status_url = f"{router.prefix}/runs/{started.workflow_id}"
    response.headers["Location"] = status_url
    return StartedResponse(
        workflow_id=started.workflow_id, temporal_url=started.temporal_url, status_url=status_url
    )


def _by_operator(request: R, username: str) -> R:
    """Without an explicit reason, the report says which operator asked."""
    if "reason" in request.model_fields_set:
        return request
    return request.model_copy(update={"reason": f"operator {username}"})


_STARTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "started; follow `statusUrl` or `temporalUrl`"},
    409: {"description": "the same operation just started, or a deploy is running"},
}


@router.post(
    "/backups",
    status_code=202,
    response_model=StartedResponse,
    response_model_by_alias=True,
    responses=_STARTED,
)
async def start_backup(
    who: OperatorDep,
    res: ResourcesDep,
    response: Response,
    body: Annotated[BackupRequest | None, Body()] = None,
) -> StartedResponse:
    """Dump the database now (the runbook's backup-database.sh)."""
    request = _by_operator(body or BackupRequest(), who.username)
    return await _start(res, response, BACKUP_WORKFLOW, request, "backup")


@router.post(
    "/restores",
    status_code=202,
    response_model=StartedResponse,
    response_model_by_alias=True,
    responses=_STARTED,
)
async def start_restore(
    who: OperatorDep,
    res: ResourcesDep,
    response: Response,
    body: Annotated[RestoreRequest | None, Body()] = None,
) -> StartedResponse:
    """Restore a backup (`backup`: a file name; omitted: the latest)."""
    request = _by_operator(body or RestoreRequest(), who.username)
    return await _start(res, response, RESTORE_WORKFLOW, request, "restore")


@router.post(
    "/maintenance/{routine}",
    status_code=202,
    response_model=StartedResponse,
    response_model_by_alias=True,
    responses=_STARTED,
)
async def start_maintenance(
    routine: Literal["daily", "weekly", "monthly"],
    who: OperatorDep,
    res: ResourcesDep,
    response: Response,
) -> StartedResponse:
    request = MaintenanceRequest(routine=routine)
    return await _start(res, response, MAINTENANCE_WORKFLOW, request, f"maintenance-{routine}")


@router.post(
    "/deployments",
    status_code=202,
    response_model=StartedResponse,
    response_model_by_alias=True,
    responses=_STARTED,
)
async def start_deployment(
    body: DeployRequest, who: OperatorDep, res: ResourcesDep, response: Response
) -> StartedResponse:
    """Backup, pull, rolling update, health, smoke test; rolled back on failure."""
    return await _start(res, response, DEPLOY_WORKFLOW, body, "deploy")


@router.post(
    "/rollbacks",
    status_code=202,
    response_model=StartedResponse,
    response_model_by_alias=True,
    responses=_STARTED,
)
async def start_rollback(
    who: OperatorDep,
    res: ResourcesDep,
    response: Response,
    body: Annotated[RollbackRequest | None, Body()] = None,
) -> StartedResponse:
    """Put a version back (`version` omitted: the previous one)."""
    return await _start(res, response, ROLLBACK_WORKFLOW, body or RollbackRequest(), "rollback")


@router.get("/runs", response_model=RunList, response_model_by_alias=True)
async def list_runs(
    who: OperatorDep,
    res: ResourcesDep,
    kind: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> RunList:
    """Finished runs from `ops_run`, newest first."""
    reports = await ops_runs.recent_runs(res.engine, kind=kind, limit=limit)
    return RunList(runs=[RunSummary.of(r, res.settings) for r in reports])


@router.get("/runs/{workflow_id}", response_model=RunDetail, response_model_by_alias=True)
async def get_run(workflow_id: WorkflowId, who: OperatorDep, res: ResourcesDep) -> RunDetail:
    """The stored report; else Temporal's live status of the run; 404 when unknown."""
    report = await ops_runs.get_run(res.engine, workflow_id)
    if report is None:
        try:
            run = await live_run(await _client(res), workflow_id)
        except RPCError as err:
            raise ApiError(503, "temporal.no_answer", headers=RETRY) from err
        if run is None:
            raise ApiError(404, "ops.run_not_found", params={"run": workflow_id})
        report = run.report
        if report is None:
            return RunDetail(
                workflow_id=workflow_id,
                kind=run.workflow_type,
                status=run.status,
                outcome=None,
                summary=None,
                started_at=run.started_at,
                finished_at=run.closed_at,
                temporal_url=temporal_url(res.settings, workflow_id),
                steps=[],
            )
    summary = RunSummary.of(report, res.settings)
    steps = [StepView.model_validate(step.model_dump()) for step in report.steps]
    return RunDetail(**summary.model_dump(), steps=steps)


@router.get("/schedules", response_model=ScheduleList, response_model_by_alias=True)
async def get_schedules(who: OperatorDep, res: ResourcesDep) -> ScheduleList:
    return ScheduleList(schedules=await list_schedules(await _client(res)))


@router.post(
    "/schedules/{schedule_id}/{action}",
    response_model=ScheduleActionResponse,
    response_model_by_alias=True,
)
async def act_on_schedule(
    schedule_id: ScheduleId,
    action: Literal["trigger", "pause", "resume"],
    who: OperatorDep,
    res: ResourcesDep,
) -> ScheduleActionResponse:
    """Run a schedule's action now, or pause / resume it (noted with the operator)."""
    try:
        await schedule_action(
            await _client(res), schedule_id, action, f"operator {who.username}", deadline=0
        )
    except NotFound as err:
        raise ApiError(
            404, "ops.schedule_not_found", params={"schedule": repr(schedule_id)}
        ) from err
    return ScheduleActionResponse(schedule_id=schedule_id, action=action)
