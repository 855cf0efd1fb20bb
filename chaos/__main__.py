"""`python -m chaos` (`make chaos`): faults under load, then the invariants and the table."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

from chaos.report import as_json, render
from chaos.run import Options, Outcome, run


async def _cancellable(work: Coroutine[Any, Any, Outcome]) -> Outcome:
    """SIGTERM cancels the run like Ctrl-C does, so the stack it started is stopped."""
    task = asyncio.ensure_future(work)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await task


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the bounded form `make test` runs")
    parser.add_argument("--rate", type=float, default=2.0, help="new customers per second")
    parser.add_argument("--hold", type=float, default=8.0, help="seconds each fault lasts")
    parser.add_argument("--advisors", type=int, default=6)
    parser.add_argument("--drain", type=float, default=600.0, help="longest wait to settle")
    parser.add_argument("--json", type=Path, help="also write the table and findings here")
    parser.add_argument("--log-dir", type=Path, help="the processes' logs (default: a temp dir)")
    args = parser.parse_args()
    log_dir = args.log_dir or Path(mkdtemp(prefix="chaos-"))
    opts = Options(
        log_dir=log_dir,
        short=args.short,
        rate=args.rate,
        hold=args.hold,
        advisors=args.advisors,
        drain=args.drain,
    )
    outcome = asyncio.run(_cancellable(run(opts)))
    print(render(outcome.rows))
    verdict = outcome.verdict
    print(
        f"\n{verdict.acknowledged} tickets acknowledged, {verdict.tickets} in PostgreSQL "
        f"({verdict.unacknowledged_but_created} created without a 201 reaching the client), "
        f"{verdict.messages} messages; logs in {log_dir}"
    )
    for note in outcome.notes:
        print(f"note: {note}")
    for f in verdict.findings:
        print(f"VIOLATION [{f.invariant}] {f.subject}: {f.detail}")
    if args.json:
        args.json.write_text(json.dumps(as_json(outcome.rows, verdict, outcome.notes), indent=2))
    return 1 if verdict.findings else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # like the bench: the Temporal client's threads must not hold the exit
