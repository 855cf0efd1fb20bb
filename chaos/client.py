"""The load's HTTP client: alternates between the API processes and records every request.

A request that fails on one API (reset, timed out, a 5xx) is recorded as the client saw
it and retried on the other. A refused connection (the process is dead, the request never
reached anyone) or one reset with no answer as its process was killed is what a balancer
routes around: retried on the other API at once and counted apart as `refused`, not as
an error. Only a 503 with `Retry-After` counts as an
allowed error (chaos/report.py).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

#: A request that hangs longer than this is a fault of its own (the issue: "not a hang"):
#: the API bounds every dependency wait and answers 503 by 8 s; 4 s of margin for a busy box.
REQUEST_TIMEOUT = 12.0
RETRY_PAUSE = 0.25


@dataclass(frozen=True)
class Sample:
    """One HTTP request as the client saw it."""

    started: float  # time.time()
    seconds: float
    what: str  # create, start, complete, call-next, desk, status
    api: int
    outcome: str  # the status code, or the transport error's class name
    retry_after: bool

    @property
    def ok(self) -> bool:
        return self.outcome.isdigit() and int(self.outcome) < 500

    @property
    def allowed_error(self) -> bool:
        return self.outcome == "503" and self.retry_after

    @property
    def refused(self) -> bool:
        """Nobody could answer: the connection was refused, or reset with no response
        because the process behind it was killed (a request in flight at the SIGKILL, or a
        pooled connection to it). A balancer routes around both; a hang is not this."""
        return self.outcome in _CUT


#: Transport failures that mean the API process is gone, not that it answered badly.
_CUT = {"ConnectError", "ReadError", "RemoteProtocolError", "WriteError"}


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)


class Balanced:
    """Round-robin over the API base URLs; `send` retries on the next one until done."""

    def __init__(self, urls: list[str], recorder: Recorder) -> None:
        self._urls = urls
        self._clients = [self._client(url) for url in urls]
        self._turn = itertools.cycle(range(len(urls)))
        self.recorder = recorder

    @staticmethod
    def _client(url: str) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        return httpx.AsyncClient(
            base_url=url, timeout=REQUEST_TIMEOUT, limits=limits, trust_env=False
        )

    async def reset(self, index: int) -> None:
        """Forget the pooled connections to an API process that was restarted (a balancer
        drops its connections to a dead backend too)."""
        old, self._clients[index] = self._clients[index], self._client(self._urls[index])
        await old.aclose()

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def once(self, what: str, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        """One attempt on the next API; None when the transport failed."""
        index = next(self._turn)
        started, t0 = time.time(), time.perf_counter()
        try:
            resp = await self._clients[index].request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.recorder.samples.append(
                Sample(started, time.perf_counter() - t0, what, index, type(exc).__name__, False)
            )
            return None
        self.recorder.samples.append(
            Sample(
                started,
                time.perf_counter() - t0,
                what,
                index,
                str(resp.status_code),
                "retry-after" in resp.headers,
            )
        )
        return resp

    async def send(
        self, what: str, method: str, path: str, *, deadline: float, **kwargs: Any
    ) -> httpx.Response | None:
        """Retry (on the other API) until an answer below 500 or the monotonic `deadline`."""
        while True:
            resp = await self.once(what, method, path, **kwargs)
            if resp is not None and resp.status_code < 500:
                return resp
            if time.monotonic() >= deadline:
                return resp
            if resp is None and self.recorder.samples[-1].refused:
                continue  # nobody answered it: straight to the other API
            pause = RETRY_PAUSE
            if resp is not None and resp.headers.get("retry-after", "").isdigit():
                pause = min(float(resp.headers["retry-after"]), 5.0)
            await asyncio.sleep(pause)  # back-off between retries, not a synchronisation
