"""The stack under test: two of each app process, PostgreSQL and RabbitMQ behind proxies.

The proxies stand between the processes under test and the shared services (which
other test runs use too), so a fault cuts only our processes off. Temporal is the
stack's own dev server on a database file, so it can be stopped and started again.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.ephemeral import Stack, start_stack, stop_stack
from devstack.tcp_proxy import TcpProxy

COPIES = {"api": 2, "worker": 2, "bridge": 2}
#: Seven processes share PostgreSQL with whatever else runs on the machine (its default
#: max_connections is 100): small pools, or the run measures "too many connections".
POOLS = {"DB_POOL_SIZE": "3", "DB_MAX_OVERFLOW": "3"}


@dataclass
class Cluster:
    stack: Stack
    postgres: TcpProxy
    rabbitmq: TcpProxy
    #: (time.time(), process name) of every bridge SIGKILL: the crash-between-send-and-record
    #: window a duplicate may fall in.
    bridge_kills: list[tuple[float, str]] = field(default_factory=list)

    @property
    def api_urls(self) -> list[str]:
        return self.stack.api_urls

    async def kill(self, name: str) -> None:
        if name.startswith("bridge"):
            self.bridge_kills.append((time.time(), name))
        await self.stack.supervisor.kill(name, signal.SIGKILL)

    async def start(self, name: str) -> None:
        await self.stack.supervisor.start(self.stack.spec(name))

    async def stop_temporal(self) -> None:
        await self.stack.supervisor.stop("temporal")

    async def start_temporal(self) -> None:
        await self.stack.supervisor.start(self.stack.spec("temporal"))

    async def telegram(self, method: str, path: str, body: object = None) -> None:
        async with httpx.AsyncClient(base_url=self.stack.sandbox_url, timeout=10) as sandbox:
            resp = await sandbox.request(method, path, json=body)
            resp.raise_for_status()


async def start_cluster(log_dir: Path) -> Cluster:
    postgres, rabbitmq = TcpProxy("127.0.0.1", 5432), TcpProxy("127.0.0.1", 5672)
    await postgres.start()
    await rabbitmq.start()
    stack = await start_stack(
        log_dir,
        replicas=COPIES,
        postgres_port=postgres.port,
        rabbitmq_port=rabbitmq.port,
        tag=f"chaos{os.getpid()}",
        extra_env=POOLS,
    )
    return Cluster(stack, postgres, rabbitmq)


async def stop_cluster(cluster: Cluster) -> None:
    try:
        await stop_stack(cluster.stack)
    finally:
        await cluster.postgres.cut()
        await cluster.rabbitmq.cut()
