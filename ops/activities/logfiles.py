"""The log folder as the maintenance routines see it: ERROR lines counted, old logs
deleted, current logs rotated. Plain file functions, run in a thread by the activities."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Already rotated logs (`api.202611.log`) are not rotated again.
ROTATED = re.compile(r"\.\d{6}\.log$")


def log_files(log_dir: Path) -> Iterator[Path]:
    if log_dir.is_dir():
        for path in sorted(log_dir.rglob("*.log")):
            if path.is_file() and not path.is_symlink():
                yield path


def count_errors(log_dir: Path, since: datetime) -> tuple[int, int]:
    """ERROR lines logged since `since` in the JSON logs (level field; a line without a
    readable timestamp counts when its file changed in the window). (errors, files read)."""
    errors = 0
    files = 0
    since_ts = since.timestamp()
    for path in log_files(log_dir):
        if path.stat().st_mtime < since_ts:
            continue
        files += 1
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if '"ERROR"' not in line and " ERROR " not in line:
                    continue
                errors += is_recent_error(line, since)
    return errors, files


def is_recent_error(line: str, since: datetime) -> int:
    try:
        entry = json.loads(line)
    except ValueError:
        # The text format (`LOG_FORMAT=text`): "<date> <time> ERROR logger message".
        return int(line.split(" ", 3)[2:3] == ["ERROR"])
    if not isinstance(entry, dict) or str(entry.get("level", "")).upper() not in (
        "ERROR",
        "CRITICAL",
    ):
        return 0
    stamp = entry.get("ts")
    if not isinstance(stamp, str):
        return 1
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return 1
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when >= since)


def delete_old_logs(log_dir: Path, cutoff: float) -> list[str]:
    deleted = []
    for path in log_files(log_dir):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted.append(str(path.relative_to(log_dir)))
    return deleted


def rotate(log_dir: Path, month: str) -> list[dict[str, Any]]:
    """Copy-truncate every current log into `<name>.<YYYYMM>.log`.

    Processes keep their file descriptors (opened in append mode), so renaming would
    leave them writing to the rotated file; copying then truncating keeps them on the
    live file. Lines written between the copy and the truncate are lost (accepted).
    """
    rotated = []
    for path in log_files(log_dir):
        if ROTATED.search(path.name) or path.stat().st_size == 0:
            continue
        target = path.with_name(f"{path.stem}.{month}.log")
        with path.open("rb") as src, target.open("ab") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
            size = src.tell()
        os.truncate(path, 0)
        rotated.append({"log": path.name, "rotated_to": target.name, "bytes": size})
    return rotated
