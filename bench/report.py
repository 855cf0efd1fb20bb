"""What one bench run measured per target (baseline, stack), printed and as JSON.

The JSON (`--json PATH`) carries every figure plus the commit, so runs on different
commits can be compared; ratios are stack / baseline (latency: how many times slower;
throughput: the fraction of the baseline's).
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import Summary


@dataclass
class TargetResult:
    """One target's phases and its cost over the two creation phases (not warm-up)."""

    name: str
    phases: list[Summary]
    tickets: int = 0
    cpu_seconds: float = 0.0
    box_cpu_ms_per_ticket: float = math.nan
    process_cpu_ms_per_ticket: dict[str, float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    #: CPU ms per delivered message over the near-limit phase ("box" and per process).
    message_cpu_ms: dict[str, float] = field(default_factory=dict)
    #: The same over the bridge-only phase (nothing upstream of the bridge runs).
    bridge_message_cpu_ms: dict[str, float] = field(default_factory=dict)
    #: `--endurance N`: tickets, seconds and RSS after each of the two runs (bench/endurance).
    memory_runs: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["phases"] = [asdict(p) | {"throughput": p.throughput} for p in self.phases]
        return out


def _ratio(a: float, b: float) -> float | None:
    if math.isnan(a) or math.isnan(b) or b == 0:
        return None
    return a / b


def ratios(baseline: TargetResult, stack: TargetResult) -> dict[str, dict[str, float | None]]:
    """Stack / baseline per creation phase (matched by position) and for box CPU per ticket."""
    out: dict[str, dict[str, float | None]] = {}
    for base, ours in zip(baseline.phases, stack.phases, strict=False):
        out[ours.name] = {
            "p50": _ratio(ours.p50, base.p50),
            "p95": _ratio(ours.p95, base.p95),
            "p99": _ratio(ours.p99, base.p99),
            "throughput": _ratio(ours.throughput, base.throughput),
        }
    out["cpu"] = {
        "box_cpu_ms_per_ticket": _ratio(stack.box_cpu_ms_per_ticket, baseline.box_cpu_ms_per_ticket)
    }
    return out


def _fmt(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.2f}x"


def text(results: list[TargetResult], ratio: dict[str, dict[str, float | None]] | None) -> str:
    lines: list[str] = []
    for result in results:
        lines.append(f"== {result.name}")
        lines += [f"  {summary.line()}" for summary in result.phases]
        lines.append(
            f"  whole-box CPU per created ticket: {result.box_cpu_ms_per_ticket:.2f} ms"
            f" ({result.tickets} tickets, {result.cpu_seconds:.1f} s window)"
        )
        for name, ms in result.process_cpu_ms_per_ticket.items():
            rss = result.rss_mb.get(name)
            lines.append(
                f"    {name:<12} CPU/ticket {ms:7.2f} ms"
                + ("" if rss is None else f"   RSS {rss:7.1f} MB")
            )
        for label, per_message in (
            ("near-limit phase", result.message_cpu_ms),
            ("bridge-only phase", result.bridge_message_cpu_ms),
        ):
            if per_message:
                lines.append(
                    f"  CPU per delivered message ({label}): "
                    + "  ".join(f"{k} {ms:.2f} ms" for k, ms in per_message.items())
                )
    if ratio:
        lines.append("== stack / baseline")
        for phase, figures in ratio.items():
            lines.append(
                f"  {phase:<34} " + "  ".join(f"{k}={_fmt(v)}" for k, v in figures.items())
            )
    return "\n".join(lines)


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def write_json(
    path: Path,
    results: list[TargetResult],
    ratio: dict[str, dict[str, float | None]] | None,
    settings: dict[str, Any],
    profiles: dict[str, Any] | None = None,
) -> None:
    def clean(value: Any) -> Any:  # NaN is not JSON
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    doc = {
        "commit": _commit(),
        "settings": settings,
        "targets": {r.name: r.as_dict() for r in results},
        "ratios": ratio,
        "profiles": profiles,
    }
    path.write_text(json.dumps(clean(doc), indent=2, allow_nan=False) + "\n")
