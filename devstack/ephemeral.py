"""A whole isolated Ticketero stack on free loopback ports, for tests and the bench.

Isolated from `make run`'s: its own PostgreSQL database and RabbitMQ vhost (both
removed afterwards), an in-memory Temporal dev server and the sandbox, API,
worker and bridge as real processes on free loopback ports.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass, field
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

    def spec(self, name: str) -> ProcessSpec:
        return self.specs[name]


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


async def start_stack(log_dir: Path, *, time_skipping: bool = False) -> Stack:
    tag = f"t{os.getpid()}{'ts' if time_skipping else ''}"
    database_url = PG.format(user="ticketero", db=f"ticketero_test_{tag}")
    vhost = f"ticketero_test_{tag}"
    await services.ensure_postgres("127.0.0.1", 5432)
    await services.ensure_database(database_url)
    await services.ensure_rabbitmq("127.0.0.1", 5672)
    await services.ensure_rabbitmq_management(MANAGEMENT)
    await services.ensure_vhost(MANAGEMENT, vhost)
    await migrate(database_url)

    supervisor = Supervisor(log_dir=log_dir, echo=False)
    grpc_port, api_port, sandbox_port = free_port(), free_port(), free_port()
    temporal_metrics_port = free_port()
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
    env = {
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
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
        "WORKER_METRICS_PORT": str(free_port()),
        "WORKER_SDK_METRICS_PORT": str(free_port()),
        "BRIDGE_METRICS_PORT": str(free_port()),
        "OPS_WORKER_METRICS_PORT": str(free_port()),
        "TEMPORAL_METRICS_PORT": str(temporal_metrics_port),
        # Tests create tickets fast from 127.0.0.1; tests/security starts an API of its
        # own with low limits to test them.
        "TICKET_RATE_LIMIT": "100000/minute",
        # A supervisor of every branch, who registers the branches tests use.
        "BOOTSTRAP_SUPERVISOR_USERNAME": BOOTSTRAP_USERNAME,
        "BOOTSTRAP_SUPERVISOR_PASSWORD": BOOTSTRAP_PASSWORD,
    }
    if time_skipping:
        env["TEMPORAL_CREATE_MODE"] = "start_then_update"
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
    )
    for spec in app_process_specs(env, api_port, sys.executable):
        stack.specs[spec.name] = spec
        await supervisor.start(spec)
    return stack


async def stop_stack(stack: Stack) -> None:
    await stack.supervisor.stop_all()
    await services.delete_vhost(MANAGEMENT, stack.vhost)
    await services.drop_database(stack.database_url, drop_role=False)
