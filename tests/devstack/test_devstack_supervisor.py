"""The process supervisor against real child processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import httpx
import pytest

from devstack.supervisor import ProcessSpec, ProcessStartError, Supervisor, port_open


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, waiting for init to reap it, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


async def _gone(pid: int, within: float = 5.0) -> bool:
    """Poll until `pid` no longer runs, with a deadline."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        if not _alive(pid):
            return True
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.05)


async def test_start_waits_ready_captures_output_and_stop_sends_sigterm(
    child_script, get_port, tmp_path, capsys
):
    port = get_port()
    sup = Supervisor(log_dir=tmp_path / "logs", echo=True)
    spec = ProcessSpec(
        name="web",
        argv=[*child_script, "web", str(port)],
        ready_url=f"http://127.0.0.1:{port}/",
        ready_timeout=15,
    )
    await sup.start(spec)
    try:
        # Ready means it answers now, without any waiting on our side.
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/")).status_code == 200
        assert sup.running("web")
        assert sup.pid("web") > 0
        lines = sup.output("web")
        assert "hello from web" in lines
        assert "warming up on stderr" in lines  # stderr is merged
    finally:
        code = await sup.stop("web")
    assert code == 3  # our SIGTERM handler ran
    assert "got SIGTERM" in sup.output("web")
    assert not sup.running("web")
    assert not await port_open("127.0.0.1", port)

    echoed = capsys.readouterr().out
    assert "[web] hello from web" in echoed
    assert "[web] got SIGTERM" in echoed
    log = (tmp_path / "logs" / "web.log").read_text()
    assert "hello from web" in log
    assert "got SIGTERM" in log


async def test_stop_escalates_to_sigkill_and_sweeps_the_group(child_script, get_port, tmp_path):
    sup = Supervisor(echo=False)
    port = get_port()
    await sup.start(
        ProcessSpec(
            name="stubborn",
            argv=[
                *child_script,
                "listen",
                str(port),
                "stubborn",
                str(tmp_path / "o"),
                "ignore-term",
            ],
            ready_port=port,
            stop_timeout=0.5,
        )
    )
    assert await sup.stop("stubborn") == -signal.SIGKILL

    port = get_port()
    pid_file = tmp_path / "grandchild.pid"
    await sup.start(
        ProcessSpec(
            name="parent",
            argv=[*child_script, "parent", str(port), str(pid_file)],
            ready_port=port,
        )
    )
    grandchild = int(pid_file.read_text())
    assert await sup.stop("parent") == -signal.SIGTERM
    assert await _gone(grandchild), "the child's own child survived stop()"


async def test_kill_restart_and_wait_any_exit(child_script, get_port, tmp_path):
    sup = Supervisor(echo=False)
    victim_port, quitter_port = get_port(), get_port()
    async with sup:
        await sup.start(
            ProcessSpec(
                name="victim",
                argv=[*child_script, "listen", str(victim_port), "victim", str(tmp_path / "o")],
                ready_port=victim_port,
            )
        )
        first_pid = sup.pid("victim")
        await sup.kill("victim")
        assert sup.returncode("victim") == -signal.SIGKILL
        assert not sup.running("victim")

        await sup.restart("victim")
        assert sup.running("victim")
        assert sup.pid("victim") != first_pid
        assert await port_open("127.0.0.1", victim_port)

        await sup.start(
            ProcessSpec(
                name="quitter",
                argv=[*child_script, "web", str(quitter_port)],
                ready_url=f"http://127.0.0.1:{quitter_port}/",
            )
        )
        async with httpx.AsyncClient() as http:
            with contextlib.suppress(httpx.HTTPError):  # it may die before answering
                await http.get(f"http://127.0.0.1:{quitter_port}/quit")
        # The killed victim is not reported; the quitter, which died on its own, is.
        name, code = await asyncio.wait_for(sup.wait_any_exit(), timeout=10)
        assert (name, code) == ("quitter", 7)
        assert "quitting" in sup.output("quitter")
    assert not sup.running("victim")


async def test_child_exiting_before_ready_raises_with_its_output(child_script, get_port):
    sup = Supervisor(echo=False)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ProcessStartError) as info:
        await sup.start(
            ProcessSpec(
                name="broken",
                argv=[*child_script, "fail"],
                ready_port=get_port(),
                ready_timeout=30,
            )
        )
    assert loop.time() - started < 10  # noticed the exit, did not wait for the deadline
    assert info.value.returncode == 2
    assert "boom: missing configuration" in info.value.tail
    assert "exited with code 2" in str(info.value)
    assert "[broken] boom: missing configuration" in str(info.value)
    assert not sup.running("broken")


async def test_not_ready_before_deadline_raises_and_kills_it(child_script, get_port, tmp_path):
    sup = Supervisor(echo=False)
    port = get_port()
    with pytest.raises(ProcessStartError) as info:
        await sup.start(
            ProcessSpec(
                name="deaf",
                # Listens on a port nobody asked about: never ready on `port`.
                argv=[*child_script, "listen", str(get_port()), "deaf", str(tmp_path / "o")],
                ready_port=port,
                ready_timeout=1.0,
            )
        )
    assert "not ready after 1s" in str(info.value)
    assert not sup.running("deaf")
    assert info.value.name == "deaf"


async def test_start_of_missing_program_raises():
    sup = Supervisor(echo=False)
    with pytest.raises(ProcessStartError, match="cannot start"):
        await sup.start(ProcessSpec(name="ghost", argv=["/nonexistent/program"]))


async def test_stop_all_stops_in_reverse_start_order(child_script, get_port, tmp_path):
    order_file = tmp_path / "order.txt"
    sup = Supervisor(echo=False)
    names = ["first", "second", "third"]
    for name in names:
        port = get_port()
        await sup.start(
            ProcessSpec(
                name=name,
                argv=[*child_script, "listen", str(port), name, str(order_file)],
                ready_port=port,
            )
        )
    assert sup.names() == names
    pids = [sup.pid(name) for name in names]
    await sup.stop_all()
    assert order_file.read_text().split() == ["third", "second", "first"]
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    # Stopping again is harmless and reports the exit code.
    assert await sup.stop("first") == 0
