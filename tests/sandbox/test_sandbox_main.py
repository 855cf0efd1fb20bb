"""`python -m telegram_sandbox --port P` starts a working server."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_module_entry_point_serves_the_sandbox(wait):
    port = free_port()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": "",  # sandbox mode: the accepted token is "sandbox-token"
        "TELEGRAM_BOT_USERNAME": "MainEntryBot",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "telegram_sandbox",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:

            async def healthy():
                if process.returncode is not None:
                    raise AssertionError(f"sandbox exited with {process.returncode}")
                try:
                    return (await client.get("/healthz")).json() == {"status": "UP"}
                except httpx.TransportError:
                    return False

            await wait(healthy, within=15)
            me = (await client.get("/botsandbox-token/getMe")).json()
            assert me["result"]["username"] == "MainEntryBot"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
