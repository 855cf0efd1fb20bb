"""docker-compose.yml validates (docker-compose v1, no engine needed) and wires every
service to the right hosts and ports; the Dockerfile, .dockerignore and nginx agree."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.observability.support import (
    COMPOSE_FILE,
    DATASOURCES_DIR,
    ENV_EXAMPLE,
    PROMETHEUS_YML,
    REPO,
    load_yaml,
    tool,
)

APP_SERVICES = ("migrate", "api", "worker", "bridge")
REQUIRED = {
    "POSTGRES_PASSWORD": "pg-secret",
    "RABBITMQ_PASSWORD": "mq-secret",
    "NATIONAL_ID_KEY": "nid-key",
    "JWT_SECRET": "jwt-secret",
    "REFERENCE_KEY": "reference-key",
    "TELEGRAM_LINK_SECRET": "link-secret",
    "TELEGRAM_BOT_TOKEN": "123:token",
    "TELEGRAM_BOT_USERNAME": "TestBot",
    "GRAFANA_ADMIN_PASSWORD": "grafana-secret",
}


def compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("docker-compose"), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(env_file.parent)},
    )


def write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`docker-compose config` with only the required variables set (defaults elsewhere)."""
    env = write_env(tmp_path_factory.mktemp("compose") / "test.env", REQUIRED)
    result = compose_config(env)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def env_of(config: dict[str, Any], service: str) -> dict[str, str]:
    environment = config["services"][service].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {k: str(v) for k, v in environment.items()}


def test_compose_validates_with_the_required_variables(resolved: dict[str, Any]) -> None:
    assert {
        "postgres",
        "rabbitmq",
        "temporal-schema",
        "temporal",
        "temporal-namespace",
        "temporal-ui",
        "migrate",
        "api",
        "worker",
        "bridge",
        "lb",
        "prometheus",
        "grafana",
    } <= set(resolved["services"])


def test_env_example_is_a_complete_env_file(tmp_path: Path) -> None:
    result = compose_config(ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_secret_stops_compose(tmp_path: Path, missing: str) -> None:
    env = write_env(tmp_path / "test.env", {k: v for k, v in REQUIRED.items() if k != missing})
    result = compose_config(env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_every_compose_variable_is_documented_in_env_example() -> None:
    used = set(
        re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", COMPOSE_FILE.read_text(encoding="utf-8"))
    )
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M)
    )
    assert used - documented == set()


def test_application_services_point_at_the_right_hosts(resolved: dict[str, Any]) -> None:
    for service in APP_SERVICES:
        env = env_of(resolved, service)
        db = urlsplit(env["DATABASE_URL"])
        assert (db.scheme, db.hostname, db.port, db.path) == (
            "postgresql+asyncpg",
            "postgres",
            5432,
            "/ticketero",
        ), service
        assert db.password == REQUIRED["POSTGRES_PASSWORD"]
        mq = urlsplit(env["RABBITMQ_URL"])
        assert (mq.scheme, mq.hostname, mq.port) == ("amqp", "rabbitmq", 5672), service
        assert mq.password == REQUIRED["RABBITMQ_PASSWORD"]
        assert env["RABBITMQ_MANAGEMENT_URL"] == "http://rabbitmq:15672"
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233", service
        assert env["APP_ENV"] == "production"
        assert urlsplit(env["DEPLOY_HEALTH_URL"]).netloc == "lb:8080"
        for secret in ("NATIONAL_ID_KEY", "JWT_SECRET", "TELEGRAM_LINK_SECRET", "REFERENCE_KEY"):
            assert env[secret] == REQUIRED[secret], (service, secret)


def test_temporal_runs_on_postgresql_with_separate_databases(resolved: dict[str, Any]) -> None:
    temporal = env_of(resolved, "temporal")
    assert temporal["DB"] == "postgres12"
    assert (temporal["POSTGRES_SEEDS"], temporal["DB_PORT"]) == ("postgres", "5432")
    assert (temporal["DBNAME"], temporal["VISIBILITY_DBNAME"]) == (
        "temporal",
        "temporal_visibility",
    )
    assert temporal["POSTGRES_PWD"] == REQUIRED["POSTGRES_PASSWORD"]
    schema = resolved["services"]["temporal-schema"]
    assert env_of(resolved, "temporal-schema")["SQL_HOST"] == "postgres"
    script = " ".join(schema["command"])
    for db, folder in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"{db}:{folder}" in script
    assert "update-schema" in script and "setup-schema" in script
    assert "/etc/temporal/schema/postgresql/v12/" in script
    for service in ("temporal-ui", "temporal-namespace"):
        assert env_of(resolved, service)["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert schema["image"].startswith("temporalio/admin-tools:")


def test_start_order_waits_on_health_checks(resolved: dict[str, Any]) -> None:
    services = resolved["services"]

    def deps(name: str) -> dict[str, str]:
        return {k: v["condition"] for k, v in services[name].get("depends_on", {}).items()}

    healthy, done = "service_healthy", "service_completed_successfully"
    for app in ("api", "worker", "bridge"):
        assert deps(app) == {
            "postgres": healthy,
            "rabbitmq": healthy,
            "temporal": healthy,
            "temporal-namespace": done,
            "migrate": done,
        }, app
    assert deps("migrate") == {"postgres": healthy}
    assert deps("temporal-schema") == {"postgres": healthy}
    assert deps("temporal") == {"temporal-schema": done}
    assert deps("temporal-namespace") == {"temporal": healthy}
    assert deps("lb") == {"api": healthy}
    assert deps("prometheus") == {"api": healthy}
    assert deps("grafana") == {"prometheus": healthy}
    waited_on = {
        dep for name in services for dep, condition in deps(name).items() if condition == healthy
    }
    for name in waited_on:
        check = services[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
    for name in ("worker", "bridge", "grafana"):
        assert services[name]["healthcheck"]["test"], name


def prometheus_targets() -> dict[str, list[tuple[str, int]]]:
    """job -> (host, port) of every target, as Docker DNS would resolve them."""
    jobs: dict[str, list[tuple[str, int]]] = {}
    for job in load_yaml(PROMETHEUS_YML)["scrape_configs"]:
        found = jobs.setdefault(job["job_name"], [])
        for sd in job.get("dns_sd_configs", []):
            found += [(name, int(sd["port"])) for name in sd["names"]]
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                found.append((host, int(port)))
    return jobs


def test_prometheus_targets_are_compose_services_on_their_ports(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    for job, job_targets in prometheus_targets().items():
        for host, port in job_targets:
            if job == "prometheus":
                assert (host, port) == ("localhost", 9090)
                continue
            assert host in services, f"job {job}: {host} is not a compose service"
            exposed = {int(str(p).split("/")[0]) for p in services[host].get("expose", [])}
            assert port in exposed, f"job {job}: {host} does not expose {port}"
    worker, bridge = env_of(resolved, "worker"), env_of(resolved, "bridge")
    targets = prometheus_targets()
    assert ("worker", int(worker["WORKER_METRICS_PORT"])) in targets["worker"]
    assert ("worker", int(worker["WORKER_SDK_METRICS_PORT"])) in targets["worker-sdk"]
    assert ("bridge", int(bridge["BRIDGE_METRICS_PORT"])) in targets["bridge"]
    temporal_metrics = env_of(resolved, "temporal")["PROMETHEUS_ENDPOINT"]
    assert targets["temporal"] == [("temporal", int(temporal_metrics.rsplit(":", 1)[1]))]
    assert targets["rabbitmq"] == [("rabbitmq", 15692)]


def test_rabbitmq_enables_management_and_prometheus_plugins(resolved: dict[str, Any]) -> None:
    rabbit = resolved["services"]["rabbitmq"]
    start = " ".join(rabbit["entrypoint"])
    assert "rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_prometheus" in start
    assert start.rstrip().endswith("exec docker-entrypoint.sh rabbitmq-server")
    assert "management" in rabbit["image"]


def test_prometheus_and_grafana_mount_the_repository_config(resolved: dict[str, Any]) -> None:
    prometheus = load_yaml(COMPOSE_FILE)["services"]["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    source = load_yaml(DATASOURCES_DIR / "prometheus.yml")["datasources"][0]
    host = urlsplit(source["url"])
    assert (host.hostname, host.port) == ("prometheus", 9090)
    assert "prometheus" in resolved["services"]


def test_api_scales_behind_the_balancer(resolved: dict[str, Any]) -> None:
    api = resolved["services"]["api"]
    assert "container_name" not in api and "ports" not in api
    assert "8080" in [str(p) for p in api["expose"]]
    lb = resolved["services"]["lb"]
    assert any(str(p.get("target", p)).endswith("8080") for p in lb["ports"]) or any(
        str(p).endswith(":8080") for p in lb["ports"]
    )
    nginx = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"resolver 127\.0\.0\.11 ", nginx)
    assert re.search(r"set \$api http://api:8080;", nginx)
    assert re.search(r"listen 8080;", nginx)
    assert "proxy_buffering off" in nginx  # server-sent events


def test_dockerfile_is_slim_non_root_with_a_health_check(resolved: dict[str, Any]) -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, re.M)
    assert re.search(r"^USER ticketero$", dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK .*\n.*actuator/health/liveness", dockerfile, re.M)
    pg_major = re.search(r"^ARG PG_MAJOR=(\d+)$", dockerfile, re.M)
    assert pg_major
    assert resolved["services"]["postgres"]["image"] == f"postgres:{pg_major.group(1)}-alpine"
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".git", ".venv", "var", "tests"} <= set(ignored)
