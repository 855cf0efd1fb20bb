"""`--profile DIR`: py-spy samples the stack's API and worker while the load runs.

py-spy (a dev dependency) records each process's stacks in the collapsed ("raw") format,
one file per process, stopped with SIGINT when the creation phases end; `top` then ranks
functions by the share of samples they appear in (inclusive) and sit on top of (self).
py-spy needs ptrace rights over the processes (root, CAP_SYS_PTRACE, or
/proc/sys/kernel/yama/ptrace_scope 0); if refused, its error is put in the JSON instead.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

RATE = 100  # samples per second: enough resolution, little overhead on a 2-core box


class Profiler:
    def __init__(self, out_dir: Path, pids: dict[str, int]) -> None:
        self.out_dir = out_dir
        self.pids = pids
        self.procs: dict[str, asyncio.subprocess.Process] = {}

    async def start(self) -> None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            self.procs[name] = await asyncio.create_subprocess_exec(
                exe, "record", "--pid", str(pid), "--rate", str(RATE), "--nonblocking",
                "--format", "raw", "--output", str(self.out_dir / f"{name}.txt"),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip

    async def stop(self) -> dict[str, Any]:
        """Stop the recorders; each process's top functions, or the error py-spy gave."""
        out: dict[str, Any] = {}
        for name, proc in self.procs.items():
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
            _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
            path = self.out_dir / f"{name}.txt"
            if path.exists():
                out[name] = top(path)
            else:
                out[name] = {"error": err.decode(errors="replace").strip()[-500:]}
        return out


def _function(frame: str) -> str:
    """`name (path/file.py:12)` -> `name (path/file.py)`: lines of one function together."""
    head, _, rest = frame.rpartition(" (")
    if not head:
        return frame
    return f"{head} ({rest.rsplit(':', 1)[0].rstrip(')')})"


def top(path: Path, n: int = 25) -> dict[str, Any]:
    """Top `n` functions by inclusive and by self share of the samples, in percent."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(f) for f in stack.split(";")]
        total += count
        for function in set(frames):
            inclusive[function] += count
        own[frames[-1]] += count
    if total == 0:
        return {"samples": 0, "inclusive": [], "self": []}

    def ranked(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": f, "percent": round(100 * c / total, 1)} for f, c in counter.most_common(n)
        ]

    return {"samples": total, "inclusive": ranked(inclusive), "self": ranked(own)}


def share(path: Path, needles: list[str]) -> dict[str, float]:
    """Percent of samples whose stack has a frame containing each needle (inclusive)."""
    hits: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        total += int(count_text)
        for needle in needles:
            if needle in stack:
                hits[needle] += int(count_text)
    return {n: round(100 * hits[n] / total, 1) if total else 0.0 for n in needles}


def main(argv: list[str]) -> None:
    """`python -m bench.profile FILE [NEEDLE ...]`: top self functions, or needles' shares."""
    path = Path(argv[0])
    if argv[1:]:
        for needle, percent in share(path, argv[1:]).items():
            print(f"{percent:5.1f}%  {needle}")
        return
    ranked = top(path)
    print(f"{ranked['samples']} samples; self:")
    for item in ranked["self"]:
        print(f"{item['percent']:5.1f}%  {item['function']}")


if __name__ == "__main__":
    main(sys.argv[1:])
