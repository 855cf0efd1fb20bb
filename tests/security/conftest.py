"""Fixtures of the security tests: the sandbox as a phone, as in tests/notifications."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.notifications.helpers import Phone, bridge_ready


@pytest.fixture
async def phone(sandbox: httpx.AsyncClient) -> AsyncIterator[Phone]:
    await bridge_ready(sandbox)
    yield Phone(sandbox)
