"""Prometheus metrics of the API, named as the runbook greps them.

HTTP latency is a histogram labelled by method, route template and status.
Telegram delivery counters are cluster-wide figures kept in PostgreSQL by the
bridge; every replica exports the same values (aggregate them with max()).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db import messages as counters
from domain.queues import QueueName

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_KINDS = ("TICKET_CREATED",)
KNOWN_REASONS = (
    "rate_limited",
    "server_error",
    "timeout",
    "forbidden",
    "bad_request",
    "unreachable",
)

http_requests = Histogram(
    "http_server_requests_seconds",
    "HTTP request latency by method, route template and status",
    ["method", "uri", "status"],
    buckets=HTTP_BUCKETS,
)
tickets_created = Counter("tickets_created", "Tickets created, by queue", ["queue"])
for _q in QueueName:
    tickets_created.labels(queue=_q.value)


class MetricsMiddleware:
    """Pure ASGI middleware (no body buffering); the route template keeps cardinality low."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            uri = getattr(route, "path", None) or ("NOT_FOUND" if status == 404 else "UNMATCHED")
            http_requests.labels(scope["method"], uri, str(status)).observe(
                time.perf_counter() - start
            )


class DeliveryCollector(Collector):
    """Exports the snapshot of `metric_counter` read just before each scrape."""

    def __init__(self) -> None:
        self.snapshot: list[tuple[str, str, float]] = []

    def collect(self) -> Iterable[Metric]:
        sent = CounterMetricFamily(
            "telegram_messages_sent", "Telegram messages delivered, by type", labels=["type"]
        )
        failed = CounterMetricFamily(
            "telegram_messages_failed",
            "Telegram messages given up (FAILED), by type",
            labels=["type"],
        )
        errors = CounterMetricFamily(
            "telegram_errors", "Failed Telegram API calls, by reason", labels=["reason"]
        )
        by_name: dict[str, dict[str, float]] = {}
        for name, label, value in self.snapshot:
            by_name.setdefault(name, {})[label] = value
        families: list[tuple[CounterMetricFamily, str, str, tuple[str, ...]]] = [
            (sent, counters.SENT_COUNTER, "type", KNOWN_KINDS),
            (failed, counters.FAILED_COUNTER, "type", KNOWN_KINDS),
            (errors, counters.ERROR_COUNTER, "reason", KNOWN_REASONS),
        ]
        for family, name, key, defaults in families:
            values = {k.removeprefix(f"{key}="): v for k, v in by_name.get(name, {}).items()}
            for default in defaults:
                values.setdefault(default, 0.0)
            for label, value in sorted(values.items()):
                family.add_metric([label], value)
            yield family
        yield self._latency(by_name)

    @staticmethod
    def _latency(by_name: dict[str, dict[str, float]]) -> HistogramMetricFamily:
        per_bucket = by_name.get(counters.LATENCY_BUCKET, {})
        buckets: list[tuple[str, float]] = []
        running = 0.0
        for bound in counters.DELIVERY_BUCKETS:
            running += per_bucket.get(repr(bound), 0.0)
            buckets.append((repr(bound), running))
        running += per_bucket.get("+Inf", 0.0)
        buckets.append(("+Inf", running))
        return HistogramMetricFamily(
            "telegram_delivery_seconds",
            "Seconds from ticket creation to Telegram accepting the message",
            buckets=buckets,
            sum_value=by_name.get(counters.LATENCY_SUM, {}).get("", 0.0),
        )


delivery_collector = DeliveryCollector()
REGISTRY.register(delivery_collector)
