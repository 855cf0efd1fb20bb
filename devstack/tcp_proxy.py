"""A TCP forwarder that can be cut, to make a real service unreachable on demand.

Tests and the chaos suite put one in front of PostgreSQL or RabbitMQ for the processes
under test only. Two ways to lose a service: `cut()` drops every open connection and
refuses new ones (a stopped server, a reset); `stall()` keeps the connections but forwards
nothing (a black-holed network: callers notice only through their own timeouts).
`restore()` undoes either; `outage(seconds)` is a cut for a while. The shared service
itself is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.base_events.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.port = 0
        #: Connections accepted since start (a sign the processes use the proxy).
        self.accepted = 0

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted just as we were cut
            writer.transport.abort()
            return
        await self._flowing.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self.accepted += 1
        self._pipes.update({writer, up_writer})
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._pipes.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def cut(self) -> None:
        """Stop listening and drop every open connection: the service is now unreachable."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._pipes):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._pipes.clear()
        if server is not None:
            await server.wait_closed()

    def stall(self) -> None:
        """Keep every connection open and accept new ones, but forward nothing."""
        self._flowing.clear()

    async def restore(self) -> None:
        """Forward again: listen again after a cut, resume after a stall."""
        if self._server is None:
            await self.start(self.port)
        self._flowing.set()

    async def outage(self, seconds: float) -> None:
        """Drop every connection and refuse new ones for `seconds`, then restore."""
        await self.cut()
        try:
            await asyncio.sleep(seconds)  # the outage's length *is* the fault
        finally:
            await self.restore()
