"""The keeper restarts children that die, with backoff, and gives up on a crash loop."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from devstack.keeper import CrashLoop, Keeper, RestartPolicy
from devstack.supervisor import ProcessSpec, Supervisor, port_open
from tests.support.wait import eventually


def test_backoff_doubles_up_to_its_ceiling():
    policy = RestartPolicy(first_delay=0.5, factor=2.0, max_delay=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_a_child_killed_is_restarted_and_the_others_keep_running(
    child_script, get_port, tmp_path
):
    said: list[str] = []
    sup = Supervisor(log_dir=tmp_path / "logs", echo=False)
    keeper = Keeper(sup, RestartPolicy(first_delay=0.05), say=said.append)
    victim_port, bystander_port = get_port(), get_port()
    marker = tmp_path / "never"
    async with sup:
        for name, port in (("victim", victim_port), ("bystander", bystander_port)):
            await sup.start(
                ProcessSpec(
                    name=name,
                    argv=[*child_script, "flaky", str(port), str(marker)],
                    ready_port=port,
                )
            )
        bystander = sup.pid("bystander")
        first = sup.pid("victim")
        keeping = asyncio.create_task(keeper.run())
        try:
            os.kill(first, signal.SIGKILL)  # from outside, as the OOM killer would

            async def back() -> bool:
                return keeper.restarts.get("victim") == 1

            await eventually(back, timeout=15, what="victim restarted")
            assert sup.running("victim") and sup.pid("victim") != first
            assert await port_open("127.0.0.1", victim_port)
            assert sup.pid("bystander") == bystander
            assert keeper.restarts == {"victim": 1}
            assert any(
                "victim exited unexpectedly with code -9" in line and "restarting in 0.1s" in line
                for line in said
            ), said
            assert f"victim restarted (pid {sup.pid('victim')})" in said
            assert not keeping.done()
        finally:
            keeping.cancel()
            with pytest.raises(asyncio.CancelledError):
                await keeping


async def test_repeated_crashes_within_the_window_are_a_crash_loop(
    child_script, get_port, tmp_path
):
    said: list[str] = []
    sup = Supervisor(log_dir=tmp_path / "logs", echo=False)
    policy = RestartPolicy(first_delay=0.1, factor=2.0, max_crashes=4, window=60)
    keeper = Keeper(sup, policy, say=said.append)
    port = get_port()
    marker = tmp_path / "crash"
    async with sup:
        await sup.start(
            ProcessSpec(
                name="flaky",
                argv=[*child_script, "flaky", str(port), str(marker)],
                ready_port=port,
                ready_timeout=5,
            )
        )
        marker.write_text("from now on every start crashes")
        os.kill(sup.pid("flaky"), signal.SIGKILL)
        with pytest.raises(CrashLoop) as info:
            await asyncio.wait_for(keeper.run(), timeout=60)
    assert info.value.name == "flaky"
    assert info.value.crashes == 4
    assert str(info.value) == "flaky crashed 4 times within 60s (last exit code 5)"
    # Each crash was logged with a longer delay before the next attempt.
    delays = [
        line.split("restarting in ")[1].split("s ")[0] for line in said if "restarting in" in line
    ]
    assert delays == ["0.1", "0.2", "0.4"]
    assert sum("did not come back: exited with code 5" in line for line in said) == 3
    assert "crashing on purpose" in sup.output("flaky")
    assert not sup.running("flaky")
