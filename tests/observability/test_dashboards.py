"""Grafana provisioning and dashboards: structure, max() over cluster-wide series, and every
panel's query evaluated by a real Prometheus scraping the running stack."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.observability.conftest import RunningPrometheus, Traffic, instant
from tests.observability.support import (
    COMPOSE_FILE,
    DATASOURCES_DIR,
    GRAFANA_DIR,
    alert_rules,
    cluster_wide_aggregations,
    dashboards,
    grafana_to_promql,
    load_yaml,
    query_panels,
)
from tests.support.wait import eventually

#: Panels the test stack cannot fill, with the reason. Each is still evaluated (no error),
#: and must have data as soon as the series it reads exist.
NO_DATA_IN_TEST_STACK = {
    "Alertas del mantenimiento por chequeo (24 h)": (
        "ops_alerts_total (bumped by ops/runs.store_report) appears once the API exports it"
    ),
}

#: What the dashboards must show (runbook and brief): a metric each, in some panel.
REQUIRED_METRICS = {
    "API latency percentiles": "http_server_requests_seconds_bucket",
    "API error rate": "http_server_requests_seconds_count",
    "tickets created by queue": "tickets_created_total",
    "tickets completed by queue": "tickets_completed_total",
    "waiting per queue": "tickets_waiting",
    "wait-time percentiles": "ticket_wait_seconds_bucket",
    "service-time percentiles": "ticket_service_seconds_bucket",
    "advisors by status": "advisors",
    "Telegram sent": "telegram_messages_sent_total",
    "Telegram errors": "telegram_errors_total",
    "Telegram failed": "telegram_messages_failed_total",
    "Telegram delivery latency": "telegram_delivery_seconds_bucket",
    "operations runs": "ops_runs_total",
    "operations alerts": "ops_alerts_total",
    "operations last success": "ops_last_success_timestamp_seconds",
    "process memory": "process_resident_memory_bytes",
    "DB pool in use": "ticketero_db_pool_checked_out",
    "DB pool size": "ticketero_db_pool_size",
    "GC": "python_gc_collections_total",
    "Temporal SDK": "temporal_workflow_task_schedule_to_start_latency_bucket",
}

SELECTOR = re.compile(r"(?P<name>[A-Za-z_:][\w:]*)?\s*\{(?P<matchers>[^{}]*)\}")
JOB_MATCHER = re.compile(r'job\s*(?P<op>=~|=)\s*"(?P<value>[^"]*)"')


def panel_targets() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, PromQL) of every query of every panel."""
    return [
        (name, panel["title"], grafana_to_promql(target["expr"]))
        for name, panel in query_panels()
        for target in panel["targets"]
    ]


def selectors(promql: str) -> list[str]:
    """The series selectors of a query (name plus matchers), to ask whether they exist."""
    found = []
    for match in SELECTOR.finditer(promql):
        name = match.group("name") or ""
        if name in ("by", "without", "on", "ignoring", "group_left", "group_right"):
            continue
        found.append(f"{name}{{{match.group('matchers')}}}")
    return found


def jobs_of(selector: str) -> set[str] | None:
    match = JOB_MATCHER.search(selector)
    if match is None:
        return None
    value = match.group("value")
    return set(value.split("|")) if match.group("op") == "=~" else {value}


def has_data(answer: dict[str, Any]) -> bool:
    result = answer["data"]["result"]
    if answer["data"]["resultType"] == "scalar":
        return bool(result[1] != "NaN")
    return any(sample["value"][1] != "NaN" for sample in result)


# -- provisioning and structure ---------------------------------------------------------


def test_datasource_is_the_compose_prometheus() -> None:
    sources = [
        source
        for path in sorted(DATASOURCES_DIR.glob("*.yml"))
        for source in load_yaml(path)["datasources"]
    ]
    assert [(s["type"], s["uid"], s["url"]) for s in sources] == [
        ("prometheus", "prometheus", "http://prometheus:9090")
    ]
    assert sources[0]["isDefault"] is True


def test_dashboards_are_provisioned_from_the_mounted_folder() -> None:
    provider = load_yaml(GRAFANA_DIR / "provisioning" / "dashboards" / "ticketero.yml")
    path = provider["providers"][0]["options"]["path"]
    grafana = load_yaml(COMPOSE_FILE)["services"]["grafana"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in grafana["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]


def test_dashboards_are_well_formed() -> None:
    boards = dashboards()
    assert len(boards) >= 2
    assert len({b["uid"] for b in boards.values()}) == len(boards)
    for name, board in boards.items():
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
        for panel in board["panels"]:
            assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), (name, panel["title"])
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}
            assert panel["targets"], f"{name}: {panel['title']} has no query"
            for target in panel["targets"]:
                assert target["expr"].strip() and target["refId"]
        for variable in board["templating"]["list"]:
            assert variable["datasource"]["uid"] == "prometheus"
            assert variable["allValue"] == ".*"


def test_dashboards_cover_what_operators_watch() -> None:
    used = " ".join(expr for _, _, expr in panel_targets())
    missing = {what: metric for what, metric in REQUIRED_METRICS.items() if metric not in used}
    assert not missing, f"no panel shows {missing}"
    quantiles = set(
        re.findall(r"histogram_quantile\((0\.\d+), sum by \(le\) \(rate\(http_server_", used)
    )
    assert {"0.50", "0.95", "0.99"} <= quantiles


def test_cluster_wide_series_are_aggregated_with_max() -> None:
    """Each API replica exports the same PostgreSQL-backed value: sum() would multiply it."""
    queries = [(f"{d}: {t}", expr) for d, t, expr in panel_targets()]
    queries += [(f"alert {r['alert']}", r["expr"]) for r in alert_rules()]
    wrong = [
        (where, metric, aggregation)
        for where, expr in queries
        for metric, aggregation in cluster_wide_aggregations(expr)
        if aggregation not in ("max", "absent")
    ]
    assert not wrong, f"cluster-wide series not under max(): {wrong}"


def test_no_data_list_names_real_panels() -> None:
    titles = {title for _, title, _ in panel_targets()}
    assert set(NO_DATA_IN_TEST_STACK) <= titles


# -- every panel against a real Prometheus ----------------------------------------------


@pytest.mark.e2e
async def test_every_panel_query_runs_and_shows_the_stack(
    prometheus: RunningPrometheus, traffic: Traffic
) -> None:
    targets = panel_targets()
    async with httpx.AsyncClient(base_url=prometheus.url, timeout=10.0) as client:
        errors = []
        for board, title, expr in targets:
            answer = await instant(client, expr)
            if answer["status"] != "success":
                errors.append((board, title, expr, answer.get("error")))
        assert not errors, f"queries Prometheus refuses: {errors}"

        def unscraped_only(expr: str) -> bool:
            """Every selector reads a job the test stack cannot feed."""
            jobs = [jobs_of(s) for s in selectors(expr)]
            return bool(jobs) and all(
                j is not None and j <= set(prometheus.unscraped) for j in jobs
            )

        expected = [
            (board, title, expr)
            for board, title, expr in targets
            if title not in NO_DATA_IN_TEST_STACK and not unscraped_only(expr)
        ]
        pending = list(expected)

        async def all_have_data() -> bool:
            still = []
            for item in pending:
                if not has_data(await instant(client, item[2])):
                    still.append(item)
            pending[:] = still
            return not pending

        try:
            await eventually(all_have_data, timeout=60, interval=0.5, what="data in every panel")
        except AssertionError:
            report = []
            for board, title, expr in pending:
                absent = [
                    s
                    for s in selectors(expr)
                    if not (await instant(client, f"count({s})"))["data"]["result"]
                ]
                report.append(f"{board} / {title}: {expr}\n    series absent: {absent}")
            raise AssertionError("panels without data:\n" + "\n".join(report)) from None

        per_job = await instant(client, "count by (job) (process_resident_memory_bytes)")
        jobs = {sample["metric"]["job"] for sample in per_job["data"]["result"]}
        assert {"api", "worker", "bridge"} <= jobs, "process panels miss a process"

        for board, title, expr in targets:
            if title in NO_DATA_IN_TEST_STACK and not has_data(await instant(client, expr)):
                present = [
                    s
                    for s in selectors(expr)
                    if (await instant(client, f"count({s})"))["data"]["result"]
                ]
                assert len(present) < len(selectors(expr)), (
                    f"{board} / {title}: every series exists but the panel has no data: {expr}"
                )


@pytest.mark.e2e
async def test_dashboard_variables_list_the_stack_values(
    prometheus: RunningPrometheus, traffic: Traffic
) -> None:
    """`label_values(metric, label)` as Grafana runs it: the traffic's branch and queues."""
    wanted = {"branch": traffic.branch, "queue": "GERENCIA"}
    async with httpx.AsyncClient(base_url=prometheus.url, timeout=10.0) as client:
        for board in dashboards().values():
            for variable in board["templating"]["list"]:
                match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["definition"])
                assert match, variable["definition"]
                metric, label = match.groups()

                async def values(metric: str = metric, label: str = label) -> set[str] | None:
                    answer = await instant(client, f"group by ({label}) ({metric})")
                    found = {s["metric"].get(label, "") for s in answer["data"]["result"]}
                    return found if wanted[label] in found else None

                await eventually(values, timeout=30, interval=0.5, what=f"{label} values")
