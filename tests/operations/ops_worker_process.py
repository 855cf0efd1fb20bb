"""`python -m tests.operations.ops_worker_process`: the ops worker alone, as its own
process, so a test can SIGKILL it in the middle of an activity. Settings come from
the environment (DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, BACKUP_DIR)."""

from __future__ import annotations

import asyncio

from ops.worker import build_ops_worker
from settings import Settings
from workflows.client import connect_temporal


async def main() -> None:
    settings = Settings()
    client = await connect_temporal(settings)
    async with build_ops_worker(client, settings):
        print("ops worker polling", settings.temporal_task_queue, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
