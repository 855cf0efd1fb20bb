"""A whole isolated Ticketero stack on free loopback ports, for tests, the bench and chaos.

Isolated from `make run`'s: its own PostgreSQL database and RabbitMQ vhost (both
removed afterwards), a Temporal dev server on a database file in the log directory,
and the sandbox, API, worker and bridge as real processes on free loopback ports.
`replicas` runs several copies of the API, worker or bridge (named `api`, `api-2`, ...,
each API on its own port); `postgres_port` / `rabbitmq_port` point the processes (not the
setup steps) at a proxy in front of the shared services, so a fault can cut them off.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from temporalio.client import Client

from devstack import services
from devstack.stack import app_process_specs, temporal_spec
from devstack.supervisor import ProcessSpec, Supervisor
from workflows.search import ensure_search_attributes

REPO = Path(__file__).resolve().parents[1]
PG = "postgresql+asyncpg://{user}:{user}@127.0.0.1:5432/{db}"
MANAGEMENT = "http://127.0.0.1:15672"
#: The isolated stack's bootstrap supervisor (it registers branches for tests and the bench).
BOOTSTRAP_USERNAME = "test-bootstrap-supervisor"
BOOTSTRAP_PASSWORD = "test-bootstrap-password-123"  # noqa: S105 - a throwaway stack's


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports nobody listens on right now.

    The sockets stay bound until all are chosen: one `free_port()` after another may hand
    out the same port twice (a stack once got its API port as a metrics port, and the
    API could not start again after a restart).
    """
    with contextlib.ExitStack() as held:
        ports: list[int] = []
        for _ in range(count):
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Stack:
    supervisor: Supervisor
    env: dict[str, str]
    api_url: str
    sandbox_url: str
    temporal_address: str
    database_url: str
    vhost: str
    api_port: int
    specs: dict[str, ProcessSpec] = field(default_factory=dict)
    #: Every API replica's base URL, `api_url` first.
    api_urls: list[str] = field(default_factory=list)

    def spec(self, name: str) -> ProcessSpec:
        return self.specs[name]

    def replicas(self, kind: str) -> list[str]:
        """Process names of one kind (`worker` -> `worker`, `worker-2`, ...), in start order."""
        return [n for n in self.specs if n == kind or n.removeprefix(f"{kind}-").isdigit()]


#: Processes that may run as several copies.
REPLICABLE = ("api", "worker", "bridge")
#: Ports each copy of a process binds besides the API's (one set per replica).
REPLICA_PORTS = ("WORKER_METRICS_PORT", "WORKER_SDK_METRICS_PORT", "BRIDGE_METRICS_PORT")


def replica_name(kind: str, index: int) -> str:
    return kind if index == 0 else f"{kind}-{index + 1}"


async def migrate(database_url: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "upgrade",
        "head",
        cwd=str(REPO),
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"alembic failed:\n{out.decode()}")


def time_skipping_spec(port: int) -> ProcessSpec:
    """The time-skipping test server: time runs normally until a test tells it to jump."""
    return ProcessSpec(
        name="temporal",
        argv=[str(Path(sys.executable).parent / "temporal-test-server"), str(port)],
        ready_port=port,
        ready_timeout=60.0,
    )


async def start_stack(
    log_dir: Path,
    *,
    time_skipping: bool = False,
    replicas: Mapping[str, int] | None = None,
    postgres_port: int = 5432,
    rabbitmq_port: int = 5672,
    tag: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Stack:
    """Start the stack; by default one copy of each process on the shared services.

    `extra_env` goes into every process's environment last (e.g. smaller pools).
    """
    copies = {kind: 1 for kind in REPLICABLE} | dict(replicas or {})
    if any(kind not in REPLICABLE or n < 1 for kind, n in copies.items()):
        raise ValueError(f"replicas: at least one copy of each of {REPLICABLE}, got {copies}")
    tag = tag or f"t{os.getpid()}{'ts' if time_skipping else ''}"
    database_url = PG.format(user="ticketero", db=f"ticketero_test_{tag}")
    vhost = f"ticketero_test_{tag}"
    await services.ensure_postgres("127.0.0.1", 5432)
    await services.ensure_database(database_url)
    await services.ensure_rabbitmq("127.0.0.1", 5672)
    await services.ensure_rabbitmq_management(MANAGEMENT)
    await services.ensure_rabbitmq_prometheus(MANAGEMENT)
    await services.ensure_vhost(MANAGEMENT, vhost)
    await migrate(database_url)

    supervisor = Supervisor(log_dir=log_dir, echo=False)
    replica_count = max(copies.values()) - 1
    ports = iter(free_ports(8 + replica_count * (1 + len(REPLICA_PORTS))))
    grpc_port, api_port, sandbox_port = next(ports), next(ports), next(ports)
    temporal_metrics_port = next(ports)
    if time_skipping:
        temporal = time_skipping_spec(grpc_port)
    else:
        temporal = temporal_spec(grpc_port, 0, str(log_dir / "temporal.db"), headless=True)
        temporal.argv += ["--metrics-port", str(temporal_metrics_port)]
    await supervisor.start(temporal)
    if time_skipping:
        # The test server starts without our search attributes; the API may use them
        # before the worker has registered them, so register them first.
        client = await Client.connect(f"127.0.0.1:{grpc_port}")
        await ensure_search_attributes(client, "default")
    child_database_url = database_url.replace(":5432/", f":{postgres_port}/")
    env = {
        "DATABASE_URL": child_database_url,
        "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{rabbitmq_port}/{vhost}",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{grpc_port}",
        "TEMPORAL_TASK_QUEUE": "ticketero-test",
        "SANDBOX_PORT": str(sandbox_port),
        "SANDBOX_HOST": "127.0.0.1",
        "TELEGRAM_BOT_TOKEN": "",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "VAR_DIR": str(log_dir / "var"),
        "BACKUP_DIR": str(log_dir / "backups"),
        "LOG_DIR": str(log_dir / "logs"),
        "WORKER_METRICS_PORT": str(next(ports)),
        "WORKER_SDK_METRICS_PORT": str(next(ports)),
        "BRIDGE_METRICS_PORT": str(next(ports)),
        "OPS_WORKER_METRICS_PORT": str(next(ports)),
        "TEMPORAL_METRICS_PORT": str(temporal_metrics_port),
        # Tests create tickets fast from 127.0.0.1; tests/security starts an API of its
        # own with low limits to test them.
        "TICKET_RATE_LIMIT": "100000/minute",
        # A supervisor of every branch, who registers the branches tests use.
        "BOOTSTRAP_SUPERVISOR_USERNAME": BOOTSTRAP_USERNAME,
        "BOOTSTRAP_SUPERVISOR_PASSWORD": BOOTSTRAP_PASSWORD,
    }
    if time_skipping:  # the test server has no update-with-start
        env["TEMPORAL_CREATE_MODE"] = "start_then_update"
        env["TEMPORAL_MULTI_OPERATIONS"] = "false"
    env.update(extra_env or {})
    stack = Stack(
        supervisor=supervisor,
        env=env,
        api_url=f"http://127.0.0.1:{api_port}",
        sandbox_url=f"http://127.0.0.1:{sandbox_port}",
        temporal_address=env["TEMPORAL_ADDRESS"],
        database_url=database_url,
        vhost=vhost,
        api_port=api_port,
        specs={"temporal": temporal},
        api_urls=[f"http://127.0.0.1:{api_port}"],
    )
    for spec in app_process_specs(env, api_port, sys.executable):
        stack.specs[spec.name] = spec
        await supervisor.start(spec)
    extra = _replica_specs(stack, copies, ports)
    for spec in extra:
        stack.specs[spec.name] = spec
    # The first copies did the one-time setup (bootstrap user, schedules): the others
    # may start together.
    await asyncio.gather(*(supervisor.start(spec) for spec in extra))
    return stack


def _replica_specs(
    stack: Stack, copies: Mapping[str, int], ports: Iterator[int]
) -> list[ProcessSpec]:
    """The second and later copies: own names, own API port and metrics ports."""
    specs: list[ProcessSpec] = []
    for index in range(1, max(copies.values())):
        api_port = next(ports)
        env = {**stack.env, **{name: str(next(ports)) for name in REPLICA_PORTS}}
        for spec in app_process_specs(env, api_port, sys.executable):
            if index >= copies.get(spec.name, 1):
                continue
            if spec.name == "api":
                stack.api_urls.append(f"http://127.0.0.1:{api_port}")
            specs.append(replace(spec, name=replica_name(spec.name, index)))
    return specs


async def stop_stack(stack: Stack) -> None:
    await stack.supervisor.stop_all()
    await services.delete_vhost(MANAGEMENT, stack.vhost)
    await services.drop_database(stack.database_url, drop_role=False)
