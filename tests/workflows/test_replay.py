"""Every recorded history (tests/workflows/histories/, recorded from earlier code by
record_histories.py) must replay against today's workflows: a change of command order
without `workflow.patched` fails here, not on a live ticket the morning after a deploy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from domain.contracts import CREATE_UPDATE, TICKET_WORKFLOW, CreateResult, NewTicket, TicketOutcome
from tests.workflows.clock_probe import ClockProbe
from worker import SANDBOX, WORKFLOW_RUNNER
from workflows.notification import NotificationWorkflow
from workflows.ticket import TicketWorkflow

TEST_SERVER = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "temporal-test-server"
HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_there_are_histories_of_every_kind() -> None:
    names = {p.stem.split("-", 1)[1] for p in HISTORIES}
    assert {"ticket-completed", "ticket-expired", "ticket-no-show-recalled"} <= names
    assert any(n.startswith("notification-") for n in names)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_on_todays_workflows(path: Path) -> None:
    # The production runner (worker.SANDBOX), so its passthrough list is exercised too.
    replayer = Replayer(
        workflows=[TicketWorkflow, NotificationWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=WORKFLOW_RUNNER,
    )
    await replayer.replay_workflow(history(path))


@workflow.defn(name=TICKET_WORKFLOW, sandboxed=False)
class ReorderedTicketWorkflow(TicketWorkflow):
    """A deploy gone wrong: a timer added before creation, without `workflow.patched`."""

    @workflow.run
    async def run(self, new: NewTicket) -> TicketOutcome:
        return await super().run(new)

    @workflow.update(name=CREATE_UPDATE)
    async def create(self, fingerprint: str) -> CreateResult:
        await workflow.sleep(timedelta(milliseconds=1))
        return await super().create(fingerprint)


async def test_an_unpatched_change_of_command_order_fails_replay() -> None:
    replayer = Replayer(workflows=[ReorderedTicketWorkflow], data_converter=pydantic_data_converter)
    ticket = next(p for p in HISTORIES if p.stem.endswith("ticket-cancelled"))
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(history(ticket))


async def test_the_production_sandbox_still_refuses_the_host_clock_in_workflow_code() -> None:
    """`worker.SANDBOX`, the opt-in runner (WORKER_SANDBOXED_WORKFLOWS), passes through only
    what needs it; workflow modules stay sandboxed, so `datetime.now()` in workflow code
    fails there instead of running unguarded."""
    server = TEST_SERVER if TEST_SERVER.exists() else None
    async with (
        await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(server) if server else None
        ) as env,
        Worker(env.client, task_queue="probe", workflows=[ClockProbe], workflow_runner=SANDBOX),
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await env.client.execute_workflow(ClockProbe.run, id="clock-probe", task_queue="probe")
    assert "datetime.datetime.now" in str(failed.value.cause)
