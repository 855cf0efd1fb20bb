"""A workflow that reads the host clock, as workflow code must never do (sandbox probe)."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow


@workflow.defn(name="ClockProbe", failure_exception_types=[Exception])
class ClockProbe:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()
