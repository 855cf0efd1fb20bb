"""What every CLI command shares: errors that end it, and the Temporal connection."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from settings import Settings
from workflows.client import connect_temporal

CONNECT_TIMEOUT = 10.0


class CliError(Exception):
    """Ends the command with a message on stderr and `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


async def temporal(settings: Settings) -> Client:
    try:
        return await asyncio.wait_for(connect_temporal(settings), CONNECT_TIMEOUT)
    except Exception as err:
        raise CliError(f"cannot reach Temporal at {settings.temporal_address}: {err}") from err
