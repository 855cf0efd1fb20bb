"""A /metrics endpoint for the processes that are not the API (worker, bridge)."""

from __future__ import annotations

from prometheus_client import start_http_server


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - scraped by Prometheus
    """Expose process metrics (memory, CPU, GC) on `port`; 0 disables it."""
    if port > 0:
        start_http_server(port, addr=host)
