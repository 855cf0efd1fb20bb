"""Temporal names are defined once (domain/contracts.py) and never spelled as literals."""

import ast
from pathlib import Path

from temporalio import activity, workflow

from activities.lifecycle import LifecycleActivities
from activities.notifications import NotificationActivities
from activities.tickets import TicketActivities
from domain import contracts as c
from workflows.notification import NotificationWorkflow
from workflows.ticket import TicketWorkflow

ROOT = Path(__file__).resolve().parents[2]
# Calls whose first argument names a workflow, update, signal, query or activity.
NAMED_CALLS = {
    "execute_update",
    "start_update",
    "execute_update_with_start_workflow",
    "signal",
    "query",
    "execute_activity",
    "start_activity",
    "execute_local_activity",
    "start_local_activity",
    "start_child_workflow",
    "execute_child_workflow",
    "start_workflow",
    "execute_workflow",
}
DECORATORS = {"defn", "update", "signal", "query"}


def test_the_ticket_workflow_registers_the_contract_names() -> None:
    defn = workflow._Definition.from_class(TicketWorkflow)
    assert defn is not None
    assert defn.name == c.TICKET_WORKFLOW
    assert set(defn.updates) == {c.CREATE_UPDATE, c.TRANSITION_UPDATE}
    assert set(defn.signals) == {c.NEAR_TURN_SIGNAL, c.LINK_CHAT_SIGNAL, c.RESERVED_SIGNAL}
    assert set(defn.queries) == {c.STATE_QUERY}


def test_the_notification_workflow_registers_the_contract_names() -> None:
    defn = workflow._Definition.from_class(NotificationWorkflow)
    assert defn is not None
    assert defn.name == c.NOTIFICATION_WORKFLOW
    assert set(defn.signals) == {c.REPORT_DELIVERY_SIGNAL}


def test_activities_register_the_contract_names() -> None:
    registered = {
        activity._Definition.must_from_callable(fn).name
        for fn in (
            TicketActivities.create_ticket,
            LifecycleActivities.apply_transition,
            LifecycleActivities.link_chat,
            LifecycleActivities.after_queue_change,
            NotificationActivities.enqueue_notification,
            NotificationActivities.give_up_notification,
        )
    }
    assert registered == {
        c.CREATE_TICKET,
        c.APPLY_TRANSITION,
        c.RECORD_CHAT_LINK,
        c.AFTER_CHANGE,
        c.ENQUEUE_NOTIFICATION,
        c.GIVE_UP_NOTIFICATION,
    }


def _literal_names(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        values = []
        if name in NAMED_CALLS and node.args:
            values.append(node.args[0])
        if name in DECORATORS:
            values.extend(k.value for k in node.keywords if k.arg == "name")
        found.extend(
            f"{path.relative_to(ROOT)}:{node.lineno}: {name}({v.value!r})"
            for v in values
            if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return found


def test_no_temporal_name_is_a_literal() -> None:
    offenders = [
        hit
        for package in ("api", "activities", "assignment", "bridge", "db", "workflows", "ops")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for hit in _literal_names(path)
    ]
    offenders += _literal_names(ROOT / "worker.py")
    assert not offenders, "\n".join(offenders)
