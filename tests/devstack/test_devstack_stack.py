"""The stack definition: Temporal dev server (real) and the app process specs."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import httpx

from devstack.stack import (
    SEARCH_ATTRIBUTES,
    app_process_specs,
    stack_specs,
    temporal_binary,
    temporal_dev_server_argv,
    temporal_spec,
)
from devstack.supervisor import Supervisor, port_open
from settings import Settings


async def _search_attributes(grpc_port: int) -> dict[str, str]:
    """Ask the server over gRPC (through the CLI, so this process never loads the SDK)."""
    proc = await asyncio.create_subprocess_exec(
        temporal_binary(),
        "operator",
        "search-attribute",
        "list",
        "--address",
        f"127.0.0.1:{grpc_port}",
        "--output",
        "json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, out.decode()
    data = json.loads(out)
    return {**data.get("systemAttributes", {}), **data.get("customAttributes", {})}


def test_temporal_argv_has_the_tuning_and_search_attributes():
    argv = temporal_dev_server_argv(7233, 8233, "var/temporal/dev.db", headless=False)
    assert argv[1:3] == ["server", "start-dev"]
    joined = " ".join(argv)
    for part in (
        "--ip 127.0.0.1 --port 7233",
        "--ui-port 8233",
        "--db-filename var/temporal/dev.db",
        "--log-level warn",
        "--dynamic-config-value history.transferProcessorMaxPollRPS=1000",
        "--dynamic-config-value history.timerProcessorMaxPollRPS=1000",
        "--sqlite-pragma journal_mode=wal",
        "--sqlite-pragma synchronous=normal",
        "--search-attribute TicketStatus=Keyword",
        "--search-attribute BranchOffice=Keyword",
        "--search-attribute QueueName=Keyword",
        "--search-attribute TicketNumber=Keyword",
    ):
        assert part in joined
    headless = temporal_dev_server_argv(7300, 8300, None, headless=True)
    assert "--headless" in headless
    assert "--ui-port" not in headless
    assert "--db-filename" not in headless
    assert "--sqlite-pragma" not in headless


async def test_temporal_dev_server_in_memory_headless_answers_grpc(get_port):
    grpc = get_port()
    sup = Supervisor(echo=False)
    async with sup:
        await sup.start(temporal_spec(grpc, get_port(), None, headless=True))
        attributes = await _search_attributes(grpc)
        for name, kind in SEARCH_ATTRIBUTES.items():
            assert attributes[name] == f"INDEXED_VALUE_TYPE_{kind.upper()}"
        code = await sup.stop("temporal")
    assert code in (0, -signal.SIGTERM)
    assert not await port_open("127.0.0.1", grpc)


async def test_temporal_dev_server_on_sqlite_with_ui_restarts_on_the_same_file(get_port, tmp_path):
    grpc, ui = get_port(), get_port()
    db_file = str(tmp_path / "temporal" / "dev.db")
    (tmp_path / "temporal").mkdir()
    sup = Supervisor(echo=False)
    async with sup:
        await sup.start(temporal_spec(grpc, ui, db_file, headless=False))
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{ui}/")).status_code == 200
        assert "TicketNumber" in await _search_attributes(grpc)
        # stop() waits for the exit, so the SQLite file is free for an immediate restart.
        await sup.restart("temporal")
        assert "TicketStatus" in await _search_attributes(grpc)
        assert not any("SQLITE_BUSY" in line for line in sup.output("temporal"))
    assert not sup.running("temporal")


def test_app_process_specs_follow_settings():
    env = {"TELEGRAM_BOT_TOKEN": "", "SANDBOX_PORT": "18081", "API_HOST": "127.0.0.1"}
    specs = app_process_specs(env, 18080, sys.executable)
    assert [s.name for s in specs] == ["sandbox", "api", "worker", "ops-worker", "bridge"]
    sandbox, api, worker, ops_worker, bridge = specs
    assert sandbox.argv == [sys.executable, "-m", "telegram_sandbox"]
    assert sandbox.ready_url == "http://127.0.0.1:18081/healthz"
    assert api.argv == [
        sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", "18080",
        "--no-server-header",
        "--no-proxy-headers",
    ]  # fmt: skip
    assert api.ready_url == "http://127.0.0.1:18080/actuator/health/liveness"
    assert worker.argv == [sys.executable, "-m", "worker"]
    assert ops_worker.argv == [sys.executable, "-m", "ops.worker"]
    assert bridge.argv == [sys.executable, "-m", "bridge"]
    for spec in specs:
        assert spec.env is not None
        assert spec.env["SANDBOX_PORT"] == "18081"
        assert spec.env["API_PORT"] == "18080"
        assert spec.env["PYTHONUNBUFFERED"] == "1"
        assert spec.cwd is not None
    assert worker.ready_url is None and worker.ready_port is None

    real = app_process_specs({"TELEGRAM_BOT_TOKEN": "123:abc"}, 18080, sys.executable)
    assert [s.name for s in real] == ["api", "worker", "ops-worker", "bridge"]


def test_stack_specs_start_temporal_first_from_settings():
    settings = Settings(
        temporal_address="127.0.0.1:17233", temporal_ui_url="http://127.0.0.1:18233"
    )
    specs = stack_specs(settings, sys.executable)
    assert specs[0].name == "temporal"
    assert specs[0].ready_port == 17233
    assert "--ui-port" in specs[0].argv and "18233" in specs[0].argv
    assert specs[0].argv[specs[0].argv.index("--db-filename") + 1].endswith("var/temporal/dev.db")
    assert [s.name for s in specs][-4:] == ["api", "worker", "ops-worker", "bridge"]
