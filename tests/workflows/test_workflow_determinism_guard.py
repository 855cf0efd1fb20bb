"""The worker runs the ticket workflows unsandboxed (worker.WORKFLOW_RUNNER), so nothing
stops `datetime.now()` or `uuid4()` in workflow code at run time any more: this test is
that guard, before a deploy. It reads workflows/*.py (AST, no import) and fails naming
file:line for each non-deterministic call (host clock, randomness, uuid, asyncio.sleep,
I/O, environment, threads) and each import of an I/O package outside
`workflow.unsafe.imports_passed_through()`. Use the `workflow.*` equivalents instead
(`workflow.now()`, `workflow.random()`, `workflow.uuid4()`, `workflow.sleep()`)."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

#: Fully qualified callables (or attributes) whose value differs between a run and its replay.
FORBIDDEN_NAMES = {
    "datetime.datetime.now": "use workflow.now()",
    "datetime.datetime.utcnow": "use workflow.now()",
    "datetime.datetime.today": "use workflow.now()",
    "datetime.date.today": "use workflow.now().date()",
    "time.time": "use workflow.time()",
    "time.time_ns": "use workflow.time_ns()",
    "time.monotonic": "use workflow.time()",
    "time.monotonic_ns": "use workflow.time_ns()",
    "time.perf_counter": "use workflow.time()",
    "time.perf_counter_ns": "use workflow.time_ns()",
    "time.sleep": "use workflow.sleep()",
    "asyncio.sleep": "use workflow.sleep() (a durable timer)",
    "uuid.uuid1": "use workflow.uuid4()",
    "uuid.uuid4": "use workflow.uuid4()",
    "os.environ": "pass configuration in the workflow input",
    "os.getenv": "pass configuration in the workflow input",
    "os.urandom": "use workflow.random()",
    "builtins.open": "do I/O in an activity",
    "builtins.input": "do I/O in an activity",
}
#: Modules that are non-deterministic (or I/O) as a whole, wherever imported or called.
FORBIDDEN_MODULES = {
    "random": "use workflow.random()",
    "secrets": "use workflow.random()",
    "threading": "workflow code runs on the workflow's own event loop",
    "multiprocessing": "workflow code runs on the workflow's own event loop",
    "subprocess": "do I/O in an activity",
    "socket": "do I/O in an activity",
}
#: I/O packages a workflow module may import only inside `imports_passed_through()`.
IO_PACKAGES = {"db", "activities", "httpx", "sqlalchemy", "aio_pika", "asyncpg", "messaging"}
PASSED_THROUGH = "temporalio.workflow.unsafe.imports_passed_through"


def _top(module: str) -> str:
    return module.split(".", 1)[0]


@dataclass
class _Checker(ast.NodeVisitor):
    """Resolves import aliases (`from datetime import datetime as dt`) to full names, so
    `dt.now()` is caught like `datetime.datetime.now()`."""

    filename: str
    found: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    passed_through: int = 0
    type_checking: int = 0

    def report(self, node: ast.AST, what: str) -> None:
        self.found.append(f"{self.filename}:{getattr(node, 'lineno', 0)}: {what}")

    def _check_import(self, node: ast.AST, module: str) -> None:
        if _top(module) in FORBIDDEN_MODULES:
            self.report(node, f"import of {module}: {FORBIDDEN_MODULES[_top(module)]}")
        elif _top(module) in IO_PACKAGES and not (self.passed_through or self.type_checking):
            self.report(
                node,
                f"import of {module} outside workflow.unsafe.imports_passed_through(): "
                "workflow code does no I/O (call an activity)",
            )

    def visit_Import(self, node: ast.Import) -> None:
        for name in node.names:
            self._check_import(node, name.name)
            if name.asname:
                self.aliases[name.asname] = name.name
            else:
                self.aliases[_top(name.name)] = _top(name.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0:
            self._check_import(node, module)
        for name in node.names:
            full = f"{module}.{name.name}" if module else name.name
            if node.level == 0 and full in FORBIDDEN_NAMES:
                self.report(node, f"import of {full}: {FORBIDDEN_NAMES[full]}")
            self.aliases[name.asname or name.name] = full

    def visit_With(self, node: ast.With) -> None:
        guarded = any(
            self._dotted(item.context_expr.func) == PASSED_THROUGH
            for item in node.items
            if isinstance(item.context_expr, ast.Call)
        )
        self.passed_through += guarded
        self.generic_visit(node)
        self.passed_through -= guarded

    def visit_If(self, node: ast.If) -> None:
        test = self._dotted(node.test)
        guarded = test in {"typing.TYPE_CHECKING", "TYPE_CHECKING"}
        self.type_checking += guarded
        for child in node.body:
            self.visit(child)
        self.type_checking -= guarded
        for child in node.orelse:
            self.visit(child)
        self.visit(node.test)

    def _dotted(self, node: ast.expr) -> str | None:
        """`a.b.c` with `a` resolved through the imports; None for anything else."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id)
        if head is None:
            head = f"builtins.{node.id}" if node.id in {"open", "input"} else node.id
        return ".".join([head, *reversed(parts)])

    def _check_name(self, node: ast.expr) -> None:
        name = self._dotted(node)
        if name is None:
            return
        parts = name.split(".")
        for prefix in (".".join(parts[:i]) for i in range(2, len(parts) + 1)):
            if prefix in FORBIDDEN_NAMES:
                self.report(node, f"{prefix}: {FORBIDDEN_NAMES[prefix]}")
                return
        if "." in name and _top(name) in FORBIDDEN_MODULES and _top(name) in self.aliases:
            self.report(node, f"{name}: {FORBIDDEN_MODULES[_top(name)]}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        # Only the outermost attribute of a chain is checked (`os.environ.get` reports once).
        self._check_name(node)
        if not isinstance(node.value, ast.Attribute | ast.Name):
            self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name):
            self._check_name(node.func)
        for child in ast.iter_child_nodes(node):
            self.visit(child)


def violations(source: str, filename: str) -> list[str]:
    checker = _Checker(filename)
    checker.visit(ast.parse(source, filename))
    return checker.found


def _prefixed(found: list[str], name: str) -> list[str]:
    return [f for f in found if f.startswith(f"{name}:")]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.py")), ids=lambda p: p.name)
def test_workflow_code_makes_no_non_deterministic_call(path: Path) -> None:
    found = violations(path.read_text(), f"workflows/{path.name}")
    assert not found, "non-deterministic workflow code:\n" + "\n".join(found)


def test_the_guard_scans_the_workflows_the_worker_runs() -> None:
    names = {p.name for p in WORKFLOWS.glob("*.py")}
    assert {"ticket.py", "notification.py"} <= names


PLANTED = [
    ("from datetime import datetime\nx = datetime.now()\n", 2, "datetime.datetime.now"),
    ("import datetime\nx = datetime.datetime.utcnow()\n", 2, "datetime.datetime.utcnow"),
    ("from datetime import datetime as dt\nx = dt.now()\n", 2, "datetime.datetime.now"),
    ("import time\nx = time.time()\n", 2, "time.time"),
    ("from time import time\n", 1, "import of time.time"),
    ("import random\n", 1, "import of random"),
    ("import uuid\nx = uuid.uuid4()\n", 2, "uuid.uuid4"),
    ("from uuid import uuid4\n", 1, "import of uuid.uuid4"),
    ("import asyncio\nasync def f():\n    await asyncio.sleep(1)\n", 3, "asyncio.sleep"),
    ("def f():\n    return open('x').read()\n", 2, "builtins.open"),
    ("import os\nx = os.environ.get('A')\n", 2, "os.environ"),
    ("import os\nx = os.getenv('A')\n", 2, "os.getenv"),
    ("import threading\n", 1, "import of threading"),
    ("from db import tickets\n", 1, "import of db outside"),
    ("import sqlalchemy\n", 1, "import of sqlalchemy outside"),
    ("from activities.tickets import TicketActivities\n", 1, "import of activities.tickets"),
    ("import httpx\n", 1, "import of httpx outside"),
    ("import aio_pika\n", 1, "import of aio_pika outside"),
]


@pytest.mark.parametrize(("source", "line", "what"), PLANTED, ids=[p[2] for p in PLANTED])
def test_the_guard_fails_on_a_planted_bad_call_naming_file_and_line(
    source: str, line: int, what: str
) -> None:
    found = violations(source, "workflows/planted.py")
    assert any(f.startswith(f"workflows/planted.py:{line}: {what}") for f in found), found


def test_the_guard_names_every_bad_call_in_a_workflow_file() -> None:
    source = textwrap.dedent(
        """
        import asyncio
        from datetime import datetime, timedelta

        from temporalio import workflow

        @workflow.defn
        class Planted:
            @workflow.run
            async def run(self) -> str:
                await asyncio.sleep(1)
                await workflow.sleep(timedelta(seconds=1))
                return datetime.now().isoformat() + str(workflow.now())
        """
    )
    found = violations(source, "workflows/planted.py")
    assert _prefixed(found, "workflows/planted.py") == [
        "workflows/planted.py:11: asyncio.sleep: use workflow.sleep() (a durable timer)",
        "workflows/planted.py:13: datetime.datetime.now: use workflow.now()",
    ]


def test_the_guard_allows_what_the_workflows_legitimately_do() -> None:
    source = textwrap.dedent(
        """
        import asyncio
        import uuid
        from datetime import datetime, timedelta
        from typing import TYPE_CHECKING

        from temporalio import workflow

        with workflow.unsafe.imports_passed_through():
            from db import tickets
            import sqlalchemy

        if TYPE_CHECKING:
            from activities.tickets import TicketActivities

        lock = asyncio.Lock()
        when = datetime.fromisoformat("2026-01-01T00:00:00") + timedelta(hours=1)
        message_id: uuid.UUID = workflow.uuid4()
        now = workflow.now()
        """
    )
    assert violations(source, "workflows/ok.py") == []
