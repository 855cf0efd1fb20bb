"""Backing services: URL parsing, PostgreSQL role/db, RabbitMQ vhosts (real servers)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from devstack.services import (
    ServiceError,
    amqp_vhost,
    delete_vhost,
    drop_database,
    ensure_database,
    ensure_postgres,
    ensure_rabbitmq_management,
    ensure_vhost,
    parse_amqp_url,
    parse_database_url,
    plugin_enabled,
)
from settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings()
MANAGEMENT_URL = SETTINGS.rabbitmq_management_url


def test_parse_database_url_variants():
    t = parse_database_url("postgresql+asyncpg://ticketero:ticketero@127.0.0.1:5432/ticketero")
    assert (t.host, t.port, t.user, t.password, t.database) == (
        "127.0.0.1",
        5432,
        "ticketero",
        "ticketero",
        "ticketero",
    )
    t = parse_database_url("postgres://u%40x:p%3Aw%2Fd@localhost/db-1?sslmode=disable")
    assert (t.host, t.port, t.user, t.password, t.database) == (
        "localhost",
        5432,
        "u@x",
        "p:w/d",
        "db-1",
    )
    t = parse_database_url("postgresql://bob@[::1]:6543/app")
    assert (t.host, t.port, t.password) == ("::1", 6543, None)
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        parse_database_url("mysql://a:b@h/db")
    with pytest.raises(ValueError, match="user and a database"):
        parse_database_url("postgresql://127.0.0.1:5432/")
    with pytest.raises(ValueError) as info:
        parse_database_url("mysql://u:secret@h/d")
    assert "secret" not in str(info.value)


def test_parse_amqp_url():
    assert parse_amqp_url("amqp://guest:guest@127.0.0.1:5672/") == ("127.0.0.1", 5672)
    assert parse_amqp_url("amqps://u:p@broker") == ("broker", 5671)
    assert parse_amqp_url("amqp://u:p@h:5673/%2F") == ("h", 5673)
    assert amqp_vhost("amqp://guest:guest@127.0.0.1:5672/") == "/"
    assert amqp_vhost("amqp://guest:guest@127.0.0.1:5672") == "/"
    assert amqp_vhost("amqp://guest:guest@127.0.0.1:5672/%2F") == "/"
    assert amqp_vhost("amqp://guest:guest@127.0.0.1:5672/tick") == "tick"


def test_plugin_list_parsing():
    listing = (
        'Listing plugins with pattern ".*" ...\n'
        " Configured: E = explicitly enabled; e = implicitly enabled\n"
        " | Status: * = running on rabbit@localhost\n"
        " |/\n"
        "[e*] rabbitmq_management_agent 3.10.8\n"
    )
    assert not plugin_enabled(listing)
    assert plugin_enabled(listing + "[E*] rabbitmq_management       3.10.8\n")


async def test_ensure_database_creates_role_and_db_then_is_idempotent():
    name = f"ticketero_t_{uuid.uuid4().hex[:10]}"
    url = f"postgresql+asyncpg://{name}:pw'{name}@127.0.0.1:5432/{name}"
    target = parse_database_url(url)
    try:
        await ensure_database(url)
        conn = await asyncpg.connect(
            host="127.0.0.1", port=5432, user=name, password=target.password, database=name
        )
        try:
            assert await conn.fetchval("SELECT current_user") == name
            owner = await conn.fetchval(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
            )
            assert owner == name
            await conn.execute("CREATE TABLE t (id int)")  # the owner can create objects
        finally:
            await conn.close()
        messages: list[str] = []
        await ensure_database(url, echo=messages.append)  # second time: nothing to do
        assert messages == [f"database: {name} (role {name}) ok"]
    finally:
        await drop_database(url)
    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        assert await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) is None
        assert await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name) is None
    finally:
        await conn.close()


async def test_ensure_postgres_explains_what_is_missing(tmp_path, get_port):
    port = get_port()  # nothing listens there
    with pytest.raises(ServiceError, match=r"PostgreSQL is not installed.*apt-get install"):
        await ensure_postgres("127.0.0.1", port, etc_dir=tmp_path)
    conf = tmp_path / "15" / "main" / "postgresql.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("port = 5432\n")
    with pytest.raises(ServiceError, match=rf"no PostgreSQL cluster .* uses port {port}"):
        await ensure_postgres("127.0.0.1", port, etc_dir=tmp_path)
    with pytest.raises(ServiceError, match="not reachable"):
        await ensure_postgres("192.0.2.1", 5432, etc_dir=tmp_path)  # TEST-NET: not ours


async def test_ensure_vhost_and_delete_vhost():
    await ensure_rabbitmq_management(MANAGEMENT_URL)
    vhost = f"ticketero-test-{uuid.uuid4().hex[:8]}"
    base = MANAGEMENT_URL.rstrip("/")
    async with httpx.AsyncClient(auth=("guest", "guest")) as http:
        try:
            await ensure_vhost(MANAGEMENT_URL, vhost)
            await ensure_vhost(MANAGEMENT_URL, vhost)  # idempotent
            assert (await http.get(f"{base}/api/vhosts/{vhost}")).status_code == 200
            perms = (await http.get(f"{base}/api/permissions/{vhost}/guest")).json()
            assert (perms["configure"], perms["write"], perms["read"]) == (".*", ".*", ".*")
        finally:
            await delete_vhost(MANAGEMENT_URL, vhost)
        assert (await http.get(f"{base}/api/vhosts/{vhost}")).status_code == 404
    await delete_vhost(MANAGEMENT_URL, vhost)  # already gone: fine


def test_ensure_command_is_idempotent():
    """`python -m devstack ensure` (what `make services` runs) twice in a row."""
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "devstack", "ensure"],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=REPO_ROOT,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "devstack: services ready"
    assert any(line.startswith("devstack: postgres: ") for line in lines)
    assert any(line.startswith("devstack: rabbitmq: management ") for line in lines)
