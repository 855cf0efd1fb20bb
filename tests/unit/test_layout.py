"""Layout rules of issue 9 that a linter does not check: request and response models live
in `api/schemas/`, not in route files; a file over 300 lines says at its top why."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "var", "migrations", "__pycache__", ".git"}
MAX_LINES = 300


def _sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not SKIP & set(p.relative_to(ROOT).parts)]


def test_route_files_define_no_models() -> None:
    offenders = []
    for path in sorted((ROOT / "api" / "routes").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        offenders += [f"{path.name}: {n.name}" for n in tree.body if isinstance(n, ast.ClassDef)]
    assert not offenders, "move these to api/schemas/: " + ", ".join(offenders)


def test_a_long_file_says_why() -> None:
    offenders = []
    for path in _sources():
        text = path.read_text("utf-8")
        if text.count("\n") <= MAX_LINES:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if "Long" not in doc:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, "over 300 lines without a 'Long ...' sentence: " + ", ".join(offenders)
