"""Test doubles for deploys: a stand-in `docker` executable and a tiny HTTP server."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCRIPT = """#!{python}
# Stand-in docker: logs argv (and the compose image variables) and answers by rules.json.
import json, os, sys
from pathlib import Path

here = Path(__file__).resolve().parent
args = sys.argv[1:]
verb = args[0] if args else ""
if verb == "compose":
    rest = args[1:]
    while rest and rest[0] in ("-f", "-p"):
        rest = rest[2:]
    verb = rest[0] if rest else ""
version = os.environ.get("TICKETERO_VERSION")
if args[:1] == ["pull"] and len(args) > 1 and ":" in args[1]:
    version = args[1].rsplit(":", 1)[1]
with open(here / "docker.log", "a") as log:
    log.write(json.dumps({{"argv": args, "version": os.environ.get("TICKETERO_VERSION"),
                          "image": os.environ.get("TICKETERO_IMAGE")}}) + "\\n")
rules_file = here / "rules.json"
rules = json.loads(rules_file.read_text()) if rules_file.exists() else {{}}
rule = rules.get(f"{{verb}}:{{version}}") or rules.get(verb) or {{}}
default = {{"pull": "Status: Downloaded newer image", "up": "Container api-1  Started",
           "images": "[]"}}.get(verb, "")
sys.stdout.write(rule.get("output", default) + "\\n")
sys.exit(int(rule.get("exit", 0)))
"""


@dataclass(frozen=True)
class Call:
    argv: list[str]
    version: str | None
    image: str | None


class FakeDocker:
    """`docker` in a tmp dir: every call is appended to docker.log; answers are configurable."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "docker"
        self.log = directory / "docker.log"
        self._rules_file = directory / "rules.json"
        self._rules: dict[str, dict[str, Any]] = {}
        self.path.write_text(_SCRIPT.format(python=sys.executable))
        self.path.chmod(0o755)

    def answer(self, verb: str, *, exit_code: int = 0, output: str = "") -> None:
        """`verb` is `pull`, `up`, `images` or `<verb>:<version>` for one version only."""
        self._rules[verb] = {"exit": exit_code, "output": output}
        self._rules_file.write_text(json.dumps(self._rules))

    def calls(self) -> list[Call]:
        if not self.log.exists():
            return []
        return [Call(**json.loads(line)) for line in self.log.read_text().splitlines() if line]

    def updates(self) -> list[str | None]:
        """Versions of every `compose ... up` so far, in order."""
        return [c.version for c in self.calls() if c.argv[:1] == ["compose"] and "up" in c.argv]


class StubHttp:
    """Answers fixed JSON per (method, path); anything else is a 404."""

    def __init__(self, routes: dict[tuple[str, str], tuple[int, dict[str, Any]]]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, str]] = []
        self._server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            if length:
                await reader.readexactly(length)
            self.requests.append((method, path))
            status, body = self.routes.get((method, path), (404, {"message": "no such route"}))
            payload = json.dumps(body).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
