"""Import direction: `lint-imports` keeps the contracts in pyproject.toml, and breaks on a
wrong-way import planted in a copy of the tree (so the check itself can fail)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = (
    "tests", "bench", "chaos", "devstack", "cli", "api", "bridge", "telegram_sandbox", "ops",
    "workflows", "activities", "assignment", "db", "messaging", "observability", "domain",
)  # fmt: skip


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "templates", "static")
    for name in PACKAGES:
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "settings.py", "worker.py"):
        shutil.copy2(REPO / name, dest / name)


def test_every_contract_is_kept() -> None:
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("db/wrong_way.py", "from api import main\n", "db is not allowed to import api"),
        ("domain/wrong_way.py", "import sqlalchemy\n", "Domain rules do no I/O"),
        ("workflows/ticket.py", "from db import tickets\n", "Workflow code imports no I/O"),
        ("bench/wrong_way.py", "from tests.support import wait\n", "bench is not allowed"),
    ],
)
def test_a_wrong_way_import_breaks_the_check(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    _copy_tree(tmp_path)
    target = tmp_path / module
    existing = target.read_text() if target.exists() else '"""Planted by the test."""\n'
    target.write_text(existing + line)
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert contract in " ".join((result.stdout + result.stderr).split())
