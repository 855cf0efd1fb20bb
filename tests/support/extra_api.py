"""A second API process on the session's stack, with settings of its own."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx

from devstack.ephemeral import Stack, free_port
from devstack.supervisor import ProcessSpec


@asynccontextmanager
async def extra_api(
    stack: Stack, name: str, env: dict[str, str], args: Sequence[str] = ()
) -> AsyncIterator[httpx.AsyncClient]:
    """Start `api.main:app` as process `name` with `env` over the stack's; a client of it."""
    port = free_port()
    spec = ProcessSpec(
        name=name,
        argv=[sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
              "--port", str(port), *args],
        env={**stack.env, **env},
        cwd=stack.spec("api").cwd,
        ready_url=f"http://127.0.0.1:{port}/actuator/health/liveness",
    )  # fmt: skip
    await stack.supervisor.start(spec)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        await stack.supervisor.stop(name)
