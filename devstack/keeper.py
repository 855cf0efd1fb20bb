"""Keeps `make run`'s processes running: restarts with backoff, stops on a crash loop.

The supervisor reports a child that exits on its own (`Supervisor.wait_any_exit`);
the keeper logs it and starts the same spec again after a delay that doubles
with each crash in the window, while every other process keeps serving. A
process that crashes `max_crashes` times within `window` seconds is in a crash
loop: restarting it again would only hide the fault, so `Keeper.run` raises
`CrashLoop` and `make run` stops the stack with a line naming the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from devstack.supervisor import ProcessStartError, Supervisor, SupervisorError


@dataclass(frozen=True)
class RestartPolicy:
    """Exponential backoff between restarts; a crash loop ends the stack."""

    first_delay: float = 0.5
    max_delay: float = 15.0
    factor: float = 2.0
    max_crashes: int = 5
    window: float = 60.0

    def delay(self, crashes: int) -> float:
        """Seconds before restarting after the `crashes`-th crash in the window."""
        return float(min(self.first_delay * self.factor ** max(crashes - 1, 0), self.max_delay))


class CrashLoop(Exception):
    """A process crashed too often within the policy's window."""

    def __init__(self, name: str, crashes: int, window: float, code: int) -> None:
        self.name = name
        self.crashes = crashes
        self.window = window
        self.code = code
        super().__init__(
            f"{name} crashed {crashes} times within {window:g}s (last exit code {code})"
        )


class Keeper:
    """Restarts the supervisor's children that die on their own."""

    def __init__(
        self,
        supervisor: Supervisor,
        policy: RestartPolicy | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.supervisor = supervisor
        self.policy = policy or RestartPolicy()
        self._say = say
        self._crashes: dict[str, deque[float]] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._failed: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self.restarts: dict[str, int] = {}

    async def run(self) -> None:
        """Handle exits until a crash loop (raises `CrashLoop`) or cancellation."""
        try:
            while True:
                name, code = await self._next_exit()
                self._on_crash(name, code)
        finally:
            await self.close()

    def cancel_pending(self, name: str) -> None:
        """Forget a scheduled restart of `name` (a control command restarts it itself)."""
        task = self._pending.pop(name, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        """Cancel the restarts still waiting or starting."""
        tasks = list(self._pending.values())
        self._pending.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _next_exit(self) -> tuple[str, int]:
        died = asyncio.ensure_future(self.supervisor.wait_any_exit())
        failed = asyncio.ensure_future(self._failed.get())
        try:
            done, _ = await asyncio.wait({died, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (died, failed):
                if not waiter.done():
                    waiter.cancel()
        # Both may have finished together: keep the other one for the next round.
        if died.done() and failed.done():
            self._failed.put_nowait(failed.result())
            return died.result()
        return (died if died in done else failed).result()

    def _on_crash(self, name: str, code: int) -> None:
        now = time.monotonic()
        times = self._crashes.setdefault(name, deque())
        times.append(now)
        while times and now - times[0] > self.policy.window:
            times.popleft()
        crashes = len(times)
        log = self.supervisor.log_path(name)
        if crashes >= self.policy.max_crashes:
            raise CrashLoop(name, crashes, self.policy.window, code)
        delay = self.policy.delay(crashes)
        self._say(
            f"{name} exited unexpectedly with code {code}"
            + (f" (see {log})" if log is not None else "")
            + f"; restarting in {delay:.1f}s "
            f"(crash {crashes} of {self.policy.max_crashes} allowed within "
            f"{self.policy.window:g}s)"
        )
        self.cancel_pending(name)
        self._pending[name] = asyncio.create_task(self._restart(name, delay, code))

    async def _restart(self, name: str, delay: float, code: int) -> None:
        await asyncio.sleep(delay)  # the backoff itself
        try:
            await self.supervisor.start(self.supervisor.spec(name))
        except ProcessStartError as err:
            self._say(f"{name} did not come back: {err.reason}")
            self._pending.pop(name, None)
            await self._failed.put((name, err.returncode if err.returncode is not None else code))
            return
        except SupervisorError as err:  # already running again (a control command)
            self._pending.pop(name, None)
            self._say(f"{name}: no restart needed: {err}")
            return
        self._pending.pop(name, None)
        self.restarts[name] = self.restarts.get(name, 0) + 1
        self._say(f"{name} restarted (pid {self.supervisor.pid(name)})")
