"""Paths, tools and small parsers shared by the observability and deployment tests."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
PROMETHEUS_YML = PROMETHEUS_DIR / "prometheus.yml"
RULES_DIR = PROMETHEUS_DIR / "rules"
RULE_TESTS_DIR = PROMETHEUS_DIR / "tests"
GRAFANA_DIR = REPO / "deploy" / "grafana"
DASHBOARDS_DIR = GRAFANA_DIR / "dashboards"
DATASOURCES_DIR = GRAFANA_DIR / "provisioning" / "datasources"
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
RUNBOOK = REPO / "RUNBOOK.md"

#: Series read from PostgreSQL at scrape time: every API replica exports the same value,
#: so any aggregation over them must be max() (sum() would count them once per replica).
CLUSTER_WIDE = (
    "tickets_waiting",
    "tickets_oldest_wait_seconds",
    "advisors",
    "tickets_completed_total",
    "ticket_wait_seconds_bucket",
    "ticket_wait_seconds_count",
    "ticket_wait_seconds_sum",
    "ticket_service_seconds_bucket",
    "ticket_service_seconds_count",
    "ticket_service_seconds_sum",
    "telegram_messages_sent_total",
    "telegram_messages_failed_total",
    "telegram_errors_total",
    "telegram_delivery_seconds_bucket",
    "telegram_delivery_seconds_count",
    "telegram_delivery_seconds_sum",
    "ops_runs_total",
    "ops_alerts_total",
    "ops_last_success_timestamp_seconds",
)

AGGREGATIONS = {
    "sum",
    "max",
    "min",
    "avg",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
}

#: Grafana variables as a test evaluates them: every branch and queue, one-minute rates.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "5s",
    "$__range": "10m",
    "$branch": ".*",
    "$queue": ".*",
}


def tool(name: str) -> str:
    """A binary `make tools` installs; a clear failure when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not installed: run `make tools` (Debian prometheus, docker-compose)"
        )
    return path


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in load_yaml(path)["groups"]:
            rules += [rule for rule in group["rules"] if "alert" in rule]
    return rules


def recording_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in load_yaml(path)["groups"]:
            rules += [rule for rule in group["rules"] if "record" in rule]
    return rules


def dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARDS_DIR.glob("*.json"))
    }


def query_panels() -> list[tuple[str, dict[str, Any]]]:
    """(dashboard file, panel) for every panel that runs queries (rows and text do not)."""
    return [
        (name, panel)
        for name, board in dashboards().items()
        for panel in board["panels"]
        if panel.get("targets")
    ]


def grafana_to_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def _blank_strings(expr: str) -> str:
    """The expression with string literals emptied (same length): parens inside regexes go."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: '"' + " " * (len(m.group()) - 2) + '"', expr)


def enclosing_calls(expr: str, position: int) -> list[str]:
    """Names of the functions and aggregations enclosing `position`, innermost first."""
    text = _blank_strings(expr)
    names: list[str] = []
    depth = 0
    for i in range(position - 1, -1, -1):
        char = text[i]
        if char == ")":
            depth += 1
        elif char == "(":
            if depth:
                depth -= 1
                continue
            head = re.search(r"([A-Za-z_]\w*)\s*(?:(?:by|without)\s*\([^()]*\))?\s*$", text[:i])
            names.append(head.group(1) if head else "")
    return names


def cluster_wide_aggregations(expr: str) -> list[tuple[str, str | None]]:
    """(metric, innermost aggregation or `absent`) for every cluster-wide series used."""
    found: list[tuple[str, str | None]] = []
    for metric in CLUSTER_WIDE:
        for match in re.finditer(rf"(?<![\w:]){re.escape(metric)}(?![\w:])", expr):
            calls = enclosing_calls(expr, match.start())
            outer = next((c for c in calls if c in AGGREGATIONS or c == "absent"), None)
            found.append((metric, outer))
    return found


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
