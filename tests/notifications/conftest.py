"""Fixtures of the notification tests: sandbox faults cleared, bridge back in shape."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.notifications.helpers import Phone, bridge_ready, start_bridge
from tests.support.stack import Stack


@pytest.fixture
async def phone(stack: Stack, sandbox: httpx.AsyncClient) -> AsyncIterator[Phone]:
    """The sandbox as a phone; faults and outages are cleared and the bridge is back after."""
    await bridge_ready(sandbox)
    yield Phone(sandbox)
    await sandbox.delete("/sandbox/faults")
    await sandbox.delete("/sandbox/outage")
    if not stack.supervisor.running("bridge"):
        await start_bridge(stack, sandbox, stack.spec("bridge"))
