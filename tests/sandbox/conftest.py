"""Run the real sandbox app with uvicorn on a free loopback port and talk HTTP to it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn

# The project is not pip-installed and pytest's config sets no `pythonpath`,
# so make the repository root importable (harmless if it already is).
REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from telegram_sandbox.app import create_app  # noqa: E402
from telegram_sandbox.webhook import RetryPolicy  # noqa: E402

TOKEN = "test-token"
BOT = "TicketeroTestBot"


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the test runner's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def wait_for(
    condition: Callable[[], Awaitable[Any]], *, within: float = 5.0, interval: float = 0.02
) -> Any:
    """Re-check `condition` until it returns something truthy, failing at the deadline."""
    deadline = time.monotonic() + within
    while True:
        result = await condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within}s (last value: {result!r})")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1:<free port> in this event loop; yield its base URL."""
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets
    # whose proto is TCP, and without it every request pays a 40 ms delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
    server = QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            task.cancel()
            pytest.fail("uvicorn did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest_asyncio.fixture(scope="session")
async def sandbox_url() -> AsyncIterator[str]:
    # Fast webhook retries so failure/recovery tests take milliseconds.
    policy = RetryPolicy(base_seconds=0.05, cap_seconds=0.2, max_attempts=1000)
    async with serve(create_app(TOKEN, BOT, webhook_retry=policy)) as url:
        yield url


@pytest_asyncio.fixture(scope="session")
async def http(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as client:
        yield client


@pytest_asyncio.fixture(autouse=True)
async def clean_sandbox(http: httpx.AsyncClient) -> AsyncIterator[None]:
    (await http.post("/sandbox/reset")).raise_for_status()
    yield
    (await http.post("/sandbox/reset")).raise_for_status()


BotCall = Callable[..., Awaitable[httpx.Response]]
WaitFor = Callable[..., Awaitable[Any]]


@pytest.fixture
def bot(http: httpx.AsyncClient) -> BotCall:
    """Call a Bot API method like a client library would (POST with a JSON body)."""

    async def call(method: str, **params: Any) -> httpx.Response:
        return await http.post(f"/bot{TOKEN}/{method}", json=params)

    return call


@pytest.fixture
def wait() -> WaitFor:
    """`await wait(condition, within=...)`: poll a condition with a deadline."""
    return wait_for


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def bot_username() -> str:
    return BOT


@pytest.fixture
def serve_app() -> Callable[[Any], contextlib.AbstractAsyncContextManager[str]]:
    """`async with serve_app(app) as base_url:` runs another ASGI app (e.g. a webhook)."""
    return serve
