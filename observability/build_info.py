"""The running release's version, as every process reports it.

A process deploy switches one process at a time onto another release's virtual
environment, so during and after a roll each process must say which version it runs:
the API in `/actuator/info`, every process as `ticketero_build_info{version,process}`.
The version is the installed distribution's (the wheel's), read once.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import Info

_build = Info("ticketero_build", "The Ticketero release this process runs")
_published: set[str] = set()


@lru_cache(maxsize=1)
def app_version() -> str:
    try:
        return version("ticketero")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def publish_build_info(process: str) -> None:
    """Set the build-info series once per process (api, worker, bridge, ops-worker)."""
    if process not in _published:
        _published.add(process)
        _build.info({"version": app_version(), "process": process})
