"""Prometheus metrics of the API, named as the runbook greps them.

HTTP latency is a histogram labelled by method, route template and status.
Business counters and histograms (Telegram outcomes, completions, waits) are
cluster-wide figures kept in PostgreSQL by whichever process recorded the
event; gauges are counted at scrape time. Every replica exports the same
values: aggregate them with max(), not sum().
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.gauges import Snapshot
from db.metrics import HISTOGRAMS
from domain.contracts import MESSAGE_KINDS
from domain.queues import QueueName
from observability.build_info import publish_build_info
from observability.logs import request_id_var

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_KINDS = MESSAGE_KINDS
#: Every maintenance step, so each alert series exists (at 0) before its first alert.
OPS_CHECKS = (
    "health",
    "disk",
    "error_logs",
    "backup",
    "log_cleanup",
    "analyze",
    "reindex",
    "purge_messages",
    "db_size",
    "vacuum_full",
    "log_rotation",
    "image_update",
    "tls_expiry",
)
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
db_pool_size = Gauge(
    "ticketero_db_pool_size", "Connections this process may hold (pool + overflow)"
)
db_pool_checked_out = Gauge("ticketero_db_pool_checked_out", "Connections in use now")
for _q in QueueName:
    tickets_created.labels(queue=_q.value)


def _request_id(scope: Scope) -> str:
    """The caller's (or the load balancer's) X-Request-Id, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = str(value.decode("latin-1"))[:64]
            if candidate.isprintable() and candidate:
                return candidate
    return uuid.uuid4().hex


class MetricsMiddleware:
    """Pure ASGI middleware (no body buffering): latency by route template (low
    cardinality) and the request id every log line of the request carries."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            uri = getattr(route, "path", None) or ("NOT_FOUND" if status == 404 else "UNMATCHED")
            http_requests.labels(scope["method"], uri, str(status)).observe(
                time.perf_counter() - start
            )
            request_id_var.reset(token)


# Counters kept in PostgreSQL: (name without _total, help, label key, labels always shown).
DB_COUNTERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("telegram_messages_sent", "Telegram messages delivered, by type", "type", KNOWN_KINDS),
    ("telegram_messages_failed", "Telegram messages given up (FAILED)", "type", KNOWN_KINDS),
    ("telegram_errors", "Failed Telegram API calls, by reason", "reason", KNOWN_REASONS),
    (
        "tickets_completed",
        "Tickets completed, by queue",
        "queue",
        tuple(q.value for q in QueueName),
    ),
)
_QUEUES = tuple(q.value for q in QueueName)
DB_HISTOGRAMS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "telegram_delivery_seconds",
        "Seconds from ticket creation to Telegram accepting it",
        "type",
        KNOWN_KINDS,
    ),
    ("ticket_wait_seconds", "Seconds a ticket waited until called, by queue", "queue", _QUEUES),
    (
        "ticket_service_seconds",
        "Seconds of service (start to complete), by queue",
        "queue",
        _QUEUES,
    ),
)


class DatabaseCollector(Collector):
    """Exports what was read from PostgreSQL just before each scrape."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterable[Metric]:
        rows: dict[str, dict[str, float]] = {}
        for name, label, value in self.snapshot.counters:
            rows.setdefault(name, {})[label] = value
        for name, help_text, key, defaults in DB_COUNTERS:
            family = CounterMetricFamily(name, help_text, labels=[key])
            values = {
                k.removeprefix(f"{key}="): v for k, v in rows.get(f"{name}_total", {}).items()
            }
            for default in defaults:
                values.setdefault(default, 0.0)
            for label, value in sorted(values.items()):
                family.add_metric([label], value)
            yield family
        for name, help_text, key, defaults in DB_HISTOGRAMS:
            yield _histogram(name, help_text, key, defaults, rows)
        waiting = GaugeMetricFamily(
            "tickets_waiting", "Tickets waiting (WAITING or NOTIFIED)", labels=["branch", "queue"]
        )
        for branch, queue, n in self.snapshot.waiting:
            waiting.add_metric([branch, queue], n)
        yield waiting
        oldest = GaugeMetricFamily(
            "tickets_oldest_wait_seconds",
            "How long the oldest waiting ticket has waited",
            labels=["branch", "queue"],
        )
        for branch, queue, seconds in self.snapshot.oldest_wait:
            oldest.add_metric([branch, queue], seconds)
        yield oldest
        advisors = GaugeMetricFamily("advisors", "Advisors by status", labels=["branch", "status"])
        for branch, status, n in self.snapshot.advisors:
            advisors.add_metric([branch, status], n)
        yield advisors
        last = GaugeMetricFamily(
            "ops_last_success_timestamp_seconds",
            "When each kind of operation last completed",
            labels=["kind"],
        )
        for kind, stamp in self.snapshot.ops_last_success:
            last.add_metric([kind], stamp)
        yield last
        runs = CounterMetricFamily(
            "ops_runs", "Operations runs by kind and outcome", labels=["kind", "outcome"]
        )
        for kind, outcome, n in self.snapshot.ops_runs:
            runs.add_metric([kind, outcome], n)
        yield runs


def _histogram(
    name: str,
    help_text: str,
    key: str,
    defaults: tuple[str, ...],
    rows: dict[str, dict[str, float]],
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, help_text, labels=[key])
    per_label: dict[str, dict[str, float]] = {f"{key}={d}": {} for d in defaults}
    for label, value in rows.get(f"{name}_bucket", {}).items():
        series, _, bound = label.partition(";le=")
        per_label.setdefault(series, {})[bound] = value
    for series, buckets in sorted(per_label.items()):
        cumulative: list[tuple[str, float]] = []
        running = 0.0
        for upper in HISTOGRAMS[name]:
            running += buckets.get(repr(upper), 0.0)
            cumulative.append((repr(upper), running))
        running += buckets.get("+Inf", 0.0)
        cumulative.append(("+Inf", running))
        family.add_metric(
            [series.removeprefix(f"{key}=")],
            cumulative,
            rows.get(f"{name}_sum", {}).get(series, 0.0),
        )
    return family


database_collector = DatabaseCollector()
REGISTRY.register(database_collector)

publish_build_info("api")  # `ticketero_build_info` in /actuator/prometheus
