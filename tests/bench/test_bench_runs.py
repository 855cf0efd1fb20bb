"""`python -m bench` end to end with tiny numbers: baseline and a private stack in one run,
every figure in the JSON. No timing assertion: only that each figure was measured."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from bench.profile import top

REPO = Path(__file__).resolve().parents[2]
TINY = ["--low-rate", "3", "--rate", "5", "--seconds", "1", "--workers", "2", "--warmup", "0.5"]


#: Both near-limit phases with tiny numbers: the urgent latency is its own phase.
NEAR = ["--near-limit", "--near-limit-rate", "2", "--near-limit-seconds", "2",
        "--near-limit-desks", "1", "--near-limit-service", "0.5"]  # fmt: skip
BRIDGE = ["--bridge-near-limit", "--bridge-rate", "10", "--bridge-seconds", "1",
          "--bridge-urgent-every", "3"]  # fmt: skip


def test_bench_measures_baseline_and_stack_and_writes_json(tmp_path: Path) -> None:
    """One run, as `make bench` does it: baseline, stack, delivery, both near-limit phases
    and the two memory runs (one stack start for all, to keep the suite short)."""
    out = tmp_path / "bench.json"
    argv = [sys.executable, "-m", "bench", "--self-hosted", *TINY, "--delivery-count", "3",
            *NEAR, *BRIDGE, "--endurance", "4"]  # fmt: skip
    done = subprocess.run(
        [*argv, "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "stack / baseline" in done.stdout
    assert "called -> urgent msg" in done.stdout and "urgent (your turn)" in done.stdout

    doc = json.loads(out.read_text())
    targets = doc["targets"]
    assert set(targets) == {"baseline", "ticketero"}
    for target in targets.values():
        creation = target["phases"][:3]
        assert all(p["count"] > 0 and p["errors"] == 0 for p in creation), creation
        assert target["tickets"] == sum(p["count"] for p in creation)
        assert target["box_cpu_ms_per_ticket"] > 0
    stack = targets["ticketero"]
    assert {"api", "worker", "bridge", "temporal"} <= set(stack["process_cpu_ms_per_ticket"])
    assert all(mb > 0 for mb in stack["rss_mb"].values())
    assert [p["name"] for p in stack["phases"][:2]] == [
        "POST /api/tickets @ 3/s",
        "POST /api/tickets @ 5/s",
    ]
    assert stack["phases"][3]["name"].startswith("created -> delivered")
    assert stack["phases"][3]["count"] == 3
    memory = stack["memory_runs"]
    assert [run["tickets"] for run in memory] == [4, 4]
    assert all(run["app_rss_mb"] > 0 for run in memory)
    assert "growth from run 1 to run 2" in done.stdout
    assert targets["baseline"]["rss_mb"]["baseline"] > 0
    ratios = doc["ratios"]
    assert len(ratios) == 4  # three creation phases and the CPU
    assert all(
        v is not None and math.isfinite(v) and v > 0
        for figures in ratios.values()
        for v in figures.values()
    )

    phases = {p["name"]: p for p in stack["phases"][4:]}
    assert phases["near-limit created -> delivered"]["count"] > 0
    assert phases["near-limit called -> urgent msg"]["count"] > 0  # the desk called someone
    assert phases["bridge @ 10/s urgent (your turn)"]["count"] == 3
    assert phases["bridge @ 10/s normal"]["count"] == 7
    assert stack["message_cpu_ms"]["bridge"] > 0
    assert stack["bridge_message_cpu_ms"]["bridge"] > 0


def test_profile_top_ranks_functions_by_share_of_samples(tmp_path: Path) -> None:
    raw = tmp_path / "worker.txt"
    raw.write_text(
        "run (a.py:1);step (b.py:10);encode (c.py:5) 6\n"
        "run (a.py:1);step (b.py:12) 3\n"
        "run (a.py:2);poll (d.py:7) 1\n"
    )
    ranked = top(raw)
    assert ranked["samples"] == 10
    assert ranked["inclusive"][0] == {"function": "run (a.py)", "percent": 100.0}
    assert {"function": "step (b.py)", "percent": 90.0} in ranked["inclusive"]
    assert ranked["self"][0] == {"function": "encode (c.py)", "percent": 60.0}
    assert {"function": "step (b.py)", "percent": 30.0} in ranked["self"]


def test_the_floor_bench_reports_the_servers_cpu_per_workflow() -> None:
    """`python -m bench.floor` with tiny numbers: a private dev server, three phases."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.floor", "--seconds", "1", "--saturated", "20"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if "server CPU/workflow" in line]
    assert [line.split()[0] for line in lines] == ["10/s", "50/s", "saturated"], done.stdout
    assert all(float(line.split()[-2]) > 0 for line in lines), lines


def test_the_memory_floor_bench_reports_imports_and_the_cached_run() -> None:
    """`python -m bench.memory_floor` with few runs: each process's imports, one cache figure."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.memory_floor", "--workflows", "50"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {line.split()[0]: line.split()[-2:] for line in done.stdout.splitlines()[1:4]}
    assert sorted(rows) == ["api", "bridge", "worker"], done.stdout
    # The entry module imports the fixed packages and more (2 MB of allocator slack).
    assert all(0 < float(fixed) <= float(entry) + 2 for fixed, entry in rows.values()), rows
    assert "KB of RSS per cached run" in done.stdout, done.stdout
