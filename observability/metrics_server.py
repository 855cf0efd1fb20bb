"""A /metrics endpoint for the processes that are not the API (worker, bridge)."""

from __future__ import annotations

from prometheus_client import start_http_server

from observability.build_info import publish_build_info


def serve_metrics(port: int, process: str, host: str = "0.0.0.0") -> None:  # noqa: S104
    """Expose process metrics (memory, CPU, GC, the running version) on `port`; 0 disables
    it. Bound to every interface: Prometheus scrapes it."""
    publish_build_info(process)
    if port > 0:
        start_http_server(port, addr=host)
