"""Prometheus configuration and alert rules: promtool checks and unit tests, and the
contract between the rules, the runbook and the compose file."""

from __future__ import annotations

import re
import subprocess
from typing import Any

from tests.observability.support import (
    COMPOSE_FILE,
    PROMETHEUS_YML,
    REPO,
    RULE_TESTS_DIR,
    RULES_DIR,
    RUNBOOK,
    alert_rules,
    load_yaml,
    recording_rules,
    tool,
)

RUNBOOK_URL = re.compile(r"^https://\S+/RUNBOOK\.md#(?P<anchor>[a-z0-9-]+)$")
SEVERITIES = {"critical", "high", "warning"}
#: Rows of the runbook's alerts table (seed) and the domain's supervisor alerts.
REQUIRED_ALERTS = {
    "TicketeroApiLatencyHigh",
    "TicketeroApiErrorRateHigh",
    "TicketeroMemoryHigh",
    "TicketeroDbPoolSaturated",
    "TicketeroTelegramErrorRateHigh",
    "TicketeroDiskSpaceCritical",
    "TicketeroNotificationsFailed",
    "TicketeroQueueCritical",
    "TicketeroExcessiveWait",
    "TicketeroDailyScheduleMissed",
    "TicketeroTelegramNoConsumer",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("promtool"), *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_promtool_check_config() -> None:
    result = promtool("check", "config", str(PROMETHEUS_YML.relative_to(REPO)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_rules() -> None:
    files = sorted(str(p.relative_to(REPO)) for p in RULES_DIR.glob("*.yml"))
    assert files
    result = promtool("check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests() -> None:
    files = sorted(str(p.relative_to(REPO)) for p in RULE_TESTS_DIR.glob("*.yml"))
    assert files
    result = promtool("test", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_severity_summary_description_and_runbook_anchor() -> None:
    runbook = RUNBOOK.read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', runbook))
    names = [rule["alert"] for rule in alert_rules()]
    assert set(names) >= REQUIRED_ALERTS
    for rule in alert_rules():
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        notes = rule["annotations"]
        assert notes["summary"].strip() and notes["description"].strip(), rule["alert"]
        url = RUNBOOK_URL.match(notes["runbook_url"])
        assert url, f"{rule['alert']}: {notes['runbook_url']}"
        assert url.group("anchor") in anchors, f"{rule['alert']}: no anchor {url.group()}"


def unit_tests() -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = []
    for path in sorted(RULE_TESTS_DIR.glob("*.yml")):
        tests += load_yaml(path)["tests"]
    return tests


def test_every_alert_fires_on_a_failure_and_stays_silent_when_healthy() -> None:
    fired: set[str] = set()
    silent: set[str] = set()
    for case in unit_tests():
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fired == set(), "alerts never shown firing"
    assert names - silent == set(), "alerts never shown silent"


def test_rule_tests_load_the_real_rules() -> None:
    for path in sorted(RULE_TESTS_DIR.glob("*.yml")):
        assert load_yaml(path)["rule_files"] == ["../rules/ticketero.yml"], path.name


def test_memory_limits_match_the_compose_file() -> None:
    """The memory alert divides by `ticketero:memory_limit_bytes`: the containers' limits."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    services = load_yaml(COMPOSE_FILE)["services"]
    limits = {}
    for rule in recording_rules():
        if rule["record"] == "ticketero:memory_limit_bytes":
            value = re.fullmatch(r"vector\((\d+)\)", rule["expr"].strip())
            assert value, rule["expr"]
            limits[rule["labels"]["job"]] = int(value.group(1))
    compose = {}
    for job in limits:
        text = str(services[job]["mem_limit"]).lower()
        number, unit = re.fullmatch(r"(\d+)([kmg]?)b?", text).groups()  # type: ignore[union-attr]
        compose[job] = int(number) * units.get(unit, 1)
    assert limits == compose
    assert set(limits) == {"api", "worker", "bridge"}


def test_scrape_jobs_cover_every_process() -> None:
    config = load_yaml(PROMETHEUS_YML)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {"prometheus", "api", "worker", "worker-sdk", "bridge", "temporal", "rabbitmq"} <= set(
        jobs
    )
    api = jobs["api"]
    assert api["metrics_path"] == "/actuator/prometheus"
    assert api["dns_sd_configs"] == [
        {"names": ["api"], "type": "A", "port": 8080, "refresh_interval": "15s"}
    ]
    assert config["rule_files"] == ["rules/*.yml"]
    assert jobs["rabbitmq-queues"]["metrics_path"] == "/metrics/detailed"
