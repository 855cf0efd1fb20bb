"""Heartbeats for long operations steps: awaiting work while telling Temporal we are alive."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from temporalio import activity

T = TypeVar("T")

#: Seconds between heartbeats of a long step (workflows set heartbeat_timeout ≥ 5x this).
HEARTBEAT_EVERY = 2.0


def beat(**details: Any) -> None:
    """Heartbeat when running as an activity (a plain call in a unit test is fine too)."""
    if activity.in_activity():
        activity.heartbeat(details)


async def heartbeating(work: Awaitable[T], **details: Any) -> T:
    """Await `work`, heartbeating meanwhile; cancelling the activity cancels the work."""
    task = asyncio.ensure_future(work)
    started = time.monotonic()
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
            beat(elapsed=round(time.monotonic() - started, 1), **details)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
