"""Deploys without containers: releases rolled onto `make run`'s processes, for real.

One `python -m devstack run` stack (CONTAINER_ENGINE=none, its default) for the
module, in order: a release whose API answers 503 is rolled back; a release is
deployed; a second one is deployed while tickets are created and served; and
`ticketero rollback` returns to the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from db.branches import create_branch
from db.engine import make_engine
from ops import releases
from ops.checks import SMOKE_BRANCH
from settings import Settings
from tests.devstack.make_run import BRANCH, RunningStack, make_run_stack, status
from tests.support.stack import REPO
from tests.support.wait import eventually

TICKETERO = REPO / ".venv" / "bin" / "ticketero"
GOOD, NEXT, BROKEN = "1.4.0", "1.5.0", "6.6.6"
HEALTH_LINE = '    return _answer(await health(res, ("db", "rabbit", "temporal")))\n'


def _broken_tree(into: Path) -> Path:
    """A copy of the tree whose /actuator/health always answers 503."""
    tree = into / "broken-tree"
    shutil.copytree(REPO, tree, ignore=releases._NOT_SHIPPED, symlinks=True)
    route = tree / "api" / "routes" / "actuator.py"
    text = route.read_text()
    assert HEALTH_LINE in text
    route.write_text(text.replace(HEALTH_LINE, '    return _answer({"status": "DOWN"})\n'))
    return tree


@pytest.fixture(scope="module")
async def deployed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    tmp = tmp_path_factory.mktemp("process-deploy")
    out = Path(f"/tmp/devstack-deploy{os.getpid()}") / "releases"  # the stack's var/releases
    shutil.rmtree(out.parent, ignore_errors=True)
    broken = await asyncio.to_thread(_broken_tree, tmp)
    await asyncio.gather(
        asyncio.to_thread(releases.build, out, GOOD),
        asyncio.to_thread(releases.build, out, NEXT),
        asyncio.to_thread(releases.build, out, BROKEN, broken),
    )
    async with make_run_stack(tmp, "deploy", {"DEPLOY_HEALTH_TIMEOUT_SECONDS": "15"}) as stack:
        engine = make_engine(Settings(database_url=stack.database_url), pool_size=1)
        try:
            async with engine.begin() as conn:  # the runbook's smoke test uses its own branch
                await create_branch(conn, SMOKE_BRANCH, "America/Santiago", open_all_hours=True)
        finally:
            await engine.dispose()
        yield stack


async def ticketero(stack: RunningStack, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(TICKETERO),
        *args,
        cwd=str(REPO),
        env=stack.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 600)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def info_version(stack: RunningStack) -> str:
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        resp = await http.get(f"{stack.api}/actuator/info")
    assert resp.status_code == 200, resp.text
    version: str = resp.json()["app"]["version"]
    return version


async def versions(stack: RunningStack) -> dict[str, str]:
    return {name: row["version"] for name, row in (await status(stack)).items()}


async def test_a_release_failing_its_health_gate_is_rolled_back(deployed: RunningStack) -> None:
    stack = deployed
    original = await info_version(stack)
    before = await status(stack)
    code, out = await ticketero(stack, "deploy", BROKEN)
    assert code == 4, out
    assert "ROLLED_BACK" in out and f"rolled back to {original}" in out
    assert f"api {BROKEN} did not report UP within 15s" in out
    assert await info_version(stack) == original
    after = await status(stack)
    assert after["api"]["version"] == original and after["api"]["running"]
    assert after["api"]["pid"] != before["api"]["pid"]  # put back, not left alone
    # The gate stopped the roll at the API: worker and bridge never moved.
    for name in ("worker", "bridge", "ops-worker"):
        assert after[name]["pid"] == before[name]["pid"]
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        assert (await http.get(f"{stack.api}/actuator/health")).status_code == 200


@dataclass
class Ticket:
    reference: str
    phase: str  # before / during / after the deploy


async def test_a_second_release_is_deployed_while_tickets_are_served(
    deployed: RunningStack,
) -> None:
    stack = deployed
    code, out = await ticketero(stack, "deploy", GOOD)
    assert code == 0, out
    assert await info_version(stack) == GOOD

    tickets: list[Ticket] = []
    failures: list[str] = []
    counter = iter(range(30_000_000, 40_000_000))

    async def create(http: httpx.AsyncClient, phase: str) -> None:
        body = {"nationalId": str(next(counter)), "branchOffice": BRANCH, "queue": "CAJA"}
        try:
            resp = await http.post(f"{stack.api}/api/tickets", json=body)
        except httpx.HTTPError as err:
            failures.append(f"{phase}: {type(err).__name__}")
            return
        if resp.status_code == 201:
            tickets.append(Ticket(resp.json()["reference"], phase))
        elif not (resp.status_code == 503 and resp.headers.get("retry-after")):
            failures.append(f"{phase}: {resp.status_code} {resp.text[:200]}")

    async with httpx.AsyncClient(timeout=60, trust_env=False) as http:
        await asyncio.gather(*(create(http, "before") for _ in range(10)))
        phase = {"now": "during"}
        stop = asyncio.Event()

        async def load() -> None:
            tasks = []
            while not stop.is_set():
                tasks.append(asyncio.create_task(create(http, phase["now"])))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.2)  # the load's pace: 5/s
            await asyncio.gather(*tasks)

        loader = asyncio.create_task(load())
        before = await status(stack)
        code, out = await ticketero(stack, "deploy", NEXT)
        phase["now"] = "after"
        await eventually(
            lambda: _true(sum(t.phase == "after" for t in tickets) >= 10),
            timeout=60,
            what="10 creations after the deploy",
        )
        stop.set()
        await loader
        assert code == 0, out
        print(
            f"\n{out}\n{len(tickets)} tickets, by phase:",
            {p: sum(t.phase == p for t in tickets) for p in ("before", "during", "after")},
        )
        assert not failures, failures
        assert await info_version(stack) == NEXT
        after = await status(stack)
        for name in ("api", "worker", "bridge"):
            assert after[name]["version"] == NEXT
            assert after[name]["pid"] != before[name]["pid"]
            line = (
                f"{name}: pid {before[name]['pid']} ({GOOD}) -> pid {after[name]['pid']} ({NEXT})"
            )
            assert line in out, out
        assert after["ops-worker"]["pid"] == before["ops-worker"]["pid"]
        assert {t.phase for t in tickets} == {"before", "during", "after"}

        # Every ticket, whichever version took it, reaches a final state on the new one
        # (a few at a time: the shared PostgreSQL has few connections to spare).
        gate = asyncio.Semaphore(4)

        async def cancel(ticket: Ticket) -> None:
            async def done() -> bool:
                resp = await http.post(f"{stack.api}/api/tickets/{ticket.reference}/cancel")
                if resp.status_code == 503:  # Retry-After: an earlier try may still land
                    return False
                if resp.status_code == 409:  # that earlier try did land
                    return bool(resp.json()["currentStatus"] == "CANCELLED")
                assert resp.status_code == 200, (ticket, resp.text)
                return bool(resp.json()["status"] == "CANCELLED")

            async with gate:
                await eventually(done, timeout=60, interval=0.5, what=f"cancel {ticket}")

        await asyncio.gather(*(cancel(t) for t in tickets))
        for t in tickets:
            resp = await http.get(f"{stack.api}/api/tickets/{t.reference}")
            assert resp.json()["status"] == "CANCELLED"


async def test_rollback_returns_the_previous_release(deployed: RunningStack) -> None:
    stack = deployed
    assert await info_version(stack) == NEXT
    code, out = await ticketero(stack, "rollback")
    assert code == 0, out
    assert f"rolled back to {GOOD} (was {NEXT})" in out
    assert await info_version(stack) == GOOD
    now = await versions(stack)
    assert (now["api"], now["worker"], now["bridge"]) == (GOOD, GOOD, GOOD)
    code, out = await ticketero(stack, "releases")
    assert code == 0 and all(v in out for v in (GOOD, NEXT, BROKEN)), out


async def _true(result: bool) -> bool:
    return result
