"""The control socket: owner-only, status, restart and switch of one process."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devstack.control import ControlServer
from devstack.control import request as control_request
from devstack.keeper import Keeper
from devstack.supervisor import ProcessSpec, Supervisor, port_open


@pytest.fixture
async def controlled(child_script, get_port, tmp_path) -> AsyncIterator[tuple[Supervisor, Path]]:
    sup = Supervisor(echo=False)
    path = tmp_path / "run" / "devstack.sock"
    server = ControlServer(sup, Keeper(sup), path)
    async with sup:
        for name in ("web", "other"):
            port = get_port()
            await sup.start(
                ProcessSpec(
                    name=name,
                    argv=[*child_script, "flaky", str(port), str(tmp_path / "never")],
                    ready_port=port,
                    version="1.0.0",
                )
            )
        await server.start()
        try:
            yield sup, path
        finally:
            await server.close()


async def test_the_socket_is_for_its_owner_only(controlled):
    _, path = controlled
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_status_lists_pid_version_and_uptime(controlled):
    sup, path = controlled
    answer = await control_request(path, {"command": "status"})
    assert answer["ok"]
    rows = {row["name"]: row for row in answer["processes"]}
    assert list(rows) == ["web", "other"]
    assert rows["web"]["pid"] == sup.pid("web")
    assert rows["web"]["version"] == "1.0.0"
    assert rows["web"]["running"] is True
    assert rows["web"]["uptime_seconds"] >= 0
    assert rows["web"]["restarts"] == 0


async def test_restart_replaces_one_process(controlled):
    sup, path = controlled
    web, other = sup.pid("web"), sup.pid("other")
    answer = await control_request(path, {"command": "restart", "name": "web"})
    assert answer["ok"], answer
    assert answer["old"] == {"pid": web, "version": "1.0.0"}
    assert answer["new"] == {"pid": sup.pid("web"), "version": "1.0.0"}
    assert sup.pid("web") != web
    assert sup.pid("other") == other


async def test_switch_runs_another_interpreter_and_reports_its_version(controlled, tmp_path):
    sup, path = controlled
    release = tmp_path / "release"
    (release / "bin").mkdir(parents=True)
    python = release / "bin" / "python"
    python.symlink_to(sys.executable)
    answer = await control_request(
        path,
        {
            "command": "switch",
            "name": "web",
            "python": str(python),
            "cwd": str(release),
            "version": "2.0.0",
        },
    )
    assert answer["ok"], answer
    assert answer["new"]["version"] == "2.0.0"
    assert sup.spec("web").argv[0] == str(python)
    assert sup.spec("web").cwd == str(release)
    assert os.readlink(f"/proc/{sup.pid('web')}/cwd") == str(release)
    rows = {r["name"]: r for r in (await control_request(path, {"command": "status"}))["processes"]}
    assert rows["web"]["version"] == "2.0.0"
    assert rows["other"]["version"] == "1.0.0"


async def test_a_switch_that_does_not_start_restores_the_previous_process(controlled):
    sup, path = controlled
    port = sup.spec("web").ready_port
    answer = await control_request(
        path, {"command": "switch", "name": "web", "python": "/bin/false", "version": "bad"}
    )
    assert answer["ok"] is False
    assert answer["restored"] is True
    assert "exited with code 1 before it was ready" in answer["error"]
    assert answer["new"]["version"] == "1.0.0"
    assert sup.spec("web").version == "1.0.0"
    assert sup.running("web")
    assert port is not None and await port_open("127.0.0.1", port)


async def test_bad_orders_are_refused_naming_the_field(controlled):
    _, path = controlled
    unknown = await control_request(path, {"command": "restart", "name": "nginx"})
    assert unknown == {"ok": False, "error": "name: no process named 'nginx'"}
    verb = await control_request(path, {"command": "kill", "name": "web"})
    assert verb["ok"] is False and verb["error"].startswith("command: unknown command 'kill'")
    python = await control_request(path, {"command": "switch", "name": "web", "python": "/nope"})
    assert python == {"ok": False, "error": "python: not an interpreter: '/nope'"}


async def test_an_overlapping_switch_keeps_the_old_process_until_the_new_one_is_ready(controlled):
    sup, path = controlled
    web = sup.pid("web")
    failed = await control_request(
        path, {"command": "switch", "name": "web", "python": "/bin/false", "overlap": True}
    )
    assert failed["ok"] is False and failed["restored"] is True
    assert sup.pid("web") == web  # never stopped: the new one failed beside it
    answer = await control_request(
        path,
        {"command": "switch", "name": "web", "python": sys.executable, "version": "2.0.0",
         "overlap": True},
    )  # fmt: skip
    assert answer["ok"], answer
    assert answer["old"]["pid"] == web and answer["new"]["pid"] == sup.pid("web") != web
    back = await control_request(path, {"command": "switch", "name": "web", "original": True})
    assert back["ok"] and back["new"]["version"] == "1.0.0"
    assert sup.spec("web").argv[0] == sys.executable
