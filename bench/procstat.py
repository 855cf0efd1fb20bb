"""CPU and memory read from /proc (Linux): whole box and per process, for CPU per ticket.

Whole box: busy jiffies (everything but idle and iowait) of /proc/stat's `cpu` line, all
cores summed, so it includes the load generator and anything else running. Per process:
utime + stime of /proc/<pid>/stat plus those of its reaped children, and VmRSS.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def box_cpu_seconds() -> float:
    """CPU seconds spent busy on all cores since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(values) - values[3] - values[4]) / TICK


def process_cpu_seconds(pid: int) -> float:
    """utime + stime + cutime + cstime of a live process, in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    after_name = stat[stat.rindex(")") + 2 :].split()
    # fields 14..17 of proc(5): after "pid (comm)" they start at index 11
    return sum(int(v) for v in after_name[11:15]) / TICK


def process_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass(frozen=True)
class Snapshot:
    box: float
    processes: dict[str, float]


def snapshot(pids: dict[str, int]) -> Snapshot:
    """Now's whole-box CPU and each named process's CPU (a vanished one reads 0)."""
    processes: dict[str, float] = {}
    for name, pid in pids.items():
        try:
            processes[name] = process_cpu_seconds(pid)
        except OSError:
            processes[name] = 0.0
    return Snapshot(box=box_cpu_seconds(), processes=processes)


def rss(pids: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, pid in pids.items():
        try:
            out[name] = process_rss_bytes(pid)
        except OSError:
            out[name] = 0
    return out


async def settle(
    pids: list[int], *, idle_cores: float = 0.2, window: float = 1.0, deadline: float = 120.0
) -> float:
    """Wait until the given processes are about idle (together busy below `idle_cores`
    over a `window`): work a phase left queued (workflow tasks Temporal accepted but has not
    run yet) is then done, and counted. Other load on the box does not hold it up. Returns
    the seconds waited, `deadline` at most."""

    def busy() -> float:
        total = 0.0
        for pid in pids:
            with contextlib.suppress(OSError):
                total += process_cpu_seconds(pid)
        return total

    start = time.monotonic()
    while time.monotonic() - start < deadline:
        before = busy()
        await asyncio.sleep(window)  # a measuring window, not a synchronisation
        if (busy() - before) / window < idle_cores:
            return time.monotonic() - start - window
    return deadline
