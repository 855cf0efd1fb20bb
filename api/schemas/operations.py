"""Bodies of the operator REST endpoints (`api/routes/operations.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from ops.client import ScheduleView, temporal_url
from ops.contracts import OpsReport
from settings import Settings


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class StartedResponse(_Camel):
    workflow_id: str
    temporal_url: str
    status_url: str


class StepView(_Camel):
    name: str
    outcome: str
    detail: str
    figures: dict[str, Any]
    started_at: datetime | None
    finished_at: datetime | None


class RunSummary(_Camel):
    workflow_id: str
    kind: str
    status: str
    outcome: str | None
    summary: str | None
    started_at: datetime | None
    finished_at: datetime | None
    temporal_url: str

    @classmethod
    def of(cls, report: OpsReport, settings: Settings) -> RunSummary:
        return cls(
            workflow_id=report.workflow_id,
            kind=report.kind,
            status="COMPLETED",
            outcome=report.outcome,
            summary=report.summary,
            started_at=report.started_at,
            finished_at=report.finished_at,
            temporal_url=temporal_url(settings, report.workflow_id),
        )


class RunDetail(RunSummary):
    steps: list[StepView]


class RunList(_Camel):
    runs: list[RunSummary]


class ScheduleList(_Camel):
    schedules: list[ScheduleView]


class ScheduleActionResponse(_Camel):
    schedule_id: str
    action: str
