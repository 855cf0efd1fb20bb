"""ExclusiveOperation: the lock of deploy, rollback and restore, held by a workflow id.

The client starts it under the one fixed id `ops-exclusive` with id conflict policy
FAIL, so while one exclusive operation runs a second start is refused by the server,
atomically (no visibility query, no race). It runs the operation as its child under
the operation's own id (`<kind>-<UTC timestamp>`, what the CLI follows and ops_run
stores) and closes when the child does, which frees the id. Cancelling it cancels
the child (and the child's compensation runs).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy

with workflow.unsafe.imports_passed_through():
    from ops.contracts import EXCLUSIVE_WORKFLOW, ExclusiveRequest, OpsReport
    from ops.steps import mark_outcome

#: A deploy or restore past this is stuck: the lock lets go (the child is cancelled).
LOCK_TIMEOUT = timedelta(hours=12)


@workflow.defn(name=EXCLUSIVE_WORKFLOW)
class ExclusiveOperation:
    @workflow.run
    async def run(self, req: ExclusiveRequest) -> OpsReport:
        report: OpsReport = await workflow.execute_child_workflow(
            req.workflow,
            req.request,
            id=req.workflow_id,
            result_type=OpsReport,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            execution_timeout=LOCK_TIMEOUT,
            parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
        )
        mark_outcome(report)
        return report
