"""Reading Server-Sent Events in tests: whole frames, and the raw text for leak checks."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Frame:
    event: str = "message"
    id: str | None = None
    data: str = ""

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.data)
        return value


@dataclass
class Feed:
    """What one open stream has delivered so far."""

    response: httpx.Response
    frames: list[Frame] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    def of(self, event: str) -> list[dict[str, Any]]:
        return [f.json() for f in self.frames if f.event == event]

    @property
    def text(self) -> str:
        return "\n".join(self.raw)


async def _read(feed: Feed) -> None:
    frame = Frame()
    async for line in feed.response.aiter_lines():
        feed.raw.append(line)
        if not line:
            if frame.data or frame.id is not None:
                feed.frames.append(frame)
            frame = Frame()
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                frame.event = value
            elif name == "id":
                frame.id = value
            elif name == "data":
                frame.data = f"{frame.data}\n{value}" if frame.data else value


@contextlib.asynccontextmanager
async def open_feed(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None
) -> AsyncIterator[Feed]:
    """An open stream read in the background; a non-200 answer is read whole."""
    async with client.stream("GET", path, headers=headers) as resp:
        feed = Feed(resp)
        if resp.status_code != 200:
            await resp.aread()
            feed.raw.append(resp.text)
            yield feed
            return
        reader = asyncio.create_task(_read(feed))
        try:
            yield feed
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reader
