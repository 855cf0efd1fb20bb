"""Make the machine's backing services ready: PostgreSQL and RabbitMQ.

`python -m devstack ensure` (`make services`) runs `ensure_all`: each step is
idempotent and cheap when its service is already up, so it can run before every
`make test` / `make run`. Services are started only when they are installed on
this machine and their URL points at it; otherwise the error says what to do.

Long because each backing service (PostgreSQL, RabbitMQ and its management and Prometheus
plugins) needs its own detect, start and wait steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import asyncpg  # type: ignore[import-untyped]
import httpx

from devstack.supervisor import port_open

Echo = Callable[[str], None]

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", ""})  # noqa: S104
POSTGRES_ETC = Path("/etc/postgresql")
SUPERUSER = "postgres"
RABBIT_USER = "guest"
RABBIT_PASSWORD = "guest"  # noqa: S105 - RabbitMQ's loopback-only default account
MANAGEMENT_PLUGIN = "rabbitmq_management"
#: Serves /metrics on :15692, what deploy/prometheus scrapes and the dashboards chart.
PROMETHEUS_PLUGIN = "rabbitmq_prometheus"
PROMETHEUS_PORT = 15692
# Debian puts the RabbitMQ and PostgreSQL tools in sbin, which a non-login PATH may lack.
EXTRA_BIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/lib/rabbitmq/bin")


class ServiceError(RuntimeError):
    """A service is not available and we cannot make it so; the message says why."""


def _quiet(_: str) -> None:
    pass


# -- URLs ---------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseTarget:
    host: str
    port: int
    user: str
    password: str | None
    database: str


def parse_database_url(url: str) -> DatabaseTarget:
    """Parse `postgresql[+driver]://user:pass@host:port/db` (also `postgres://`)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0].lower()
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {_redact(url)}")
    try:
        port = parts.port or 5432
    except ValueError as exc:
        raise ValueError(f"bad port in database URL {_redact(url)}") from exc
    database = unquote(parts.path.lstrip("/"))
    user = unquote(parts.username) if parts.username else ""
    if not user or not database:
        raise ValueError(f"database URL needs a user and a database name: {_redact(url)}")
    password = unquote(parts.password) if parts.password is not None else None
    return DatabaseTarget(
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=user,
        password=password,
        database=database,
    )


def parse_host_port(url: str, default_port: int) -> tuple[str, int]:
    """Host and port of any `scheme://[user:pass@]host[:port]/...` URL."""
    parts = urlsplit(url if "://" in url else f"//{url}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def parse_amqp_url(url: str) -> tuple[str, int]:
    default = 5671 if url.lower().startswith("amqps") else 5672
    return parse_host_port(url, default)


def amqp_vhost(url: str) -> str:
    """The vhost of an AMQP URL: empty path means `/`, `%2F` is `/`."""
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _redact(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _is_local(host: str) -> bool:
    return host in LOCAL_HOSTS or host.startswith("127.")


def _connect_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "localhost") else host  # noqa: S104


def find_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in EXTRA_BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file():
            return str(candidate)
    return None


# -- helpers ------------------------------------------------------------------


async def _run_tool(argv: Sequence[str], max_wait: float) -> tuple[int, str]:
    """Run a command, output to a temp file (daemons it spawns may inherit it)."""
    with tempfile.TemporaryFile() as out:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,  # Ctrl-C on `make run` must not reach a daemon
        )
        try:
            code = await asyncio.wait_for(proc.wait(), max_wait)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            code = -1
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return code, text


async def _wait_port(host: str, port: int, deadline: float) -> bool:
    interval = 0.1
    while True:
        if await port_open(host, port):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)
        interval = min(interval * 1.5, 1.0)


# -- PostgreSQL ---------------------------------------------------------------


@dataclass(frozen=True)
class PostgresCluster:
    version: str
    name: str
    port: int


def find_postgres_clusters(etc_dir: Path = POSTGRES_ETC) -> list[PostgresCluster]:
    """Debian's clusters (`/etc/postgresql/<version>/<name>/postgresql.conf`)."""
    clusters: list[PostgresCluster] = []
    if not etc_dir.is_dir():
        return clusters
    for conf in sorted(etc_dir.glob("*/*/postgresql.conf")):
        port = 5432
        with contextlib.suppress(OSError):
            match = re.search(r"(?m)^\s*port\s*=\s*(\d+)", conf.read_text(errors="replace"))
            if match:
                port = int(match.group(1))
        clusters.append(PostgresCluster(conf.parent.parent.name, conf.parent.name, port))
    return clusters


async def ensure_postgres(
    host: str,
    port: int,
    *,
    etc_dir: Path = POSTGRES_ETC,
    max_wait: float = 60.0,
    echo: Echo = _quiet,
) -> None:
    """PostgreSQL answers on host:port, starting the local cluster if needed."""
    if await port_open(_connect_host(host), port):
        echo(f"postgres: {host}:{port} is up")
        return
    if not _is_local(host):
        raise ServiceError(
            f"PostgreSQL at {host}:{port} is not reachable (and is not on this machine, "
            "so it cannot be started from here); check DATABASE_URL"
        )
    ctl = find_tool("pg_ctlcluster")
    clusters = find_postgres_clusters(etc_dir)
    if ctl is None or not clusters:
        raise ServiceError(
            "PostgreSQL is not installed: install it (Debian: `apt-get install postgresql`, "
            "version 15 or newer) or point DATABASE_URL at a running server"
        )
    matching = [c for c in clusters if c.port == port]
    if not matching:
        listed = ", ".join(f"{c.version}/{c.name} on {c.port}" for c in clusters)
        raise ServiceError(
            f"no PostgreSQL cluster on this machine uses port {port} ({listed}); "
            "fix DATABASE_URL or the cluster's port"
        )
    cluster = matching[0]
    echo(f"postgres: starting cluster {cluster.version}/{cluster.name}")
    deadline = time.monotonic() + max_wait
    code, text = await _run_tool(
        [ctl, "--skip-systemctl-redirect", cluster.version, cluster.name, "start"], max_wait
    )
    # A non-zero code may only mean "already starting": the port decides.
    if not await _wait_port(_connect_host(host), port, deadline):
        raise ServiceError(
            f"PostgreSQL {cluster.version}/{cluster.name} did not answer on {host}:{port} "
            f"within {max_wait:g}s (pg_ctlcluster exit {code}): {text.strip()[-800:]}"
        )
    echo(f"postgres: {host}:{port} is up")


async def _connect_superuser(target: DatabaseTarget, superuser: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=_connect_host(target.host),
        port=target.port,
        user=superuser,
        database="postgres",
        timeout=10,
    )


async def ensure_database(url: str, *, superuser: str = SUPERUSER, echo: Echo = _quiet) -> None:
    """Create the role and the database (owned by the role) named in `url` if missing.

    Connects as the `postgres` superuser (trust auth on loopback).
    """
    target = parse_database_url(url)
    conn = await _connect_superuser(target, superuser)
    try:
        created_role = False
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", target.user):
            if target.password is not None:
                sql = await conn.fetchval(
                    "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
                    target.user,
                    target.password,
                )
            else:
                sql = await conn.fetchval(
                    "SELECT format('CREATE ROLE %I LOGIN', $1::text)", target.user
                )
            try:
                await conn.execute(sql)
                created_role = True
            except asyncpg.DuplicateObjectError:
                pass  # created concurrently
        created_db = False
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", target.database):
            sql = await conn.fetchval(
                "SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)",
                target.database,
                target.user,
            )
            try:
                await conn.execute(sql)
                created_db = True
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()
    what = []
    if created_role:
        what.append(f"created role {target.user}")
    if created_db:
        what.append(f"created database {target.database}")
    echo("database: " + (", ".join(what) if what else f"{target.database} (role {target.user}) ok"))


async def drop_database(url: str, *, drop_role: bool = True, superuser: str = SUPERUSER) -> None:
    """Drop the database named in `url` (closing its sessions), then its role. For tests."""
    target = parse_database_url(url)
    conn = await _connect_superuser(target, superuser)
    try:
        sql = await conn.fetchval(
            "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', $1::text)", target.database
        )
        await conn.execute(sql)
        if drop_role:
            sql = await conn.fetchval(
                "SELECT format('DROP ROLE IF EXISTS %I', $1::text)", target.user
            )
            with contextlib.suppress(asyncpg.DependentObjectsStillExistError):
                await conn.execute(sql)  # still owns objects elsewhere: leave it
    finally:
        await conn.close()


# -- RabbitMQ -----------------------------------------------------------------


async def ensure_rabbitmq(
    host: str,
    port: int,
    *,
    max_wait: float = 90.0,
    echo: Echo = _quiet,
) -> None:
    """RabbitMQ accepts AMQP connections on host:port, starting it if needed."""
    if await port_open(_connect_host(host), port):
        echo(f"rabbitmq: {host}:{port} is up")
        return
    if not _is_local(host):
        raise ServiceError(
            f"RabbitMQ at {host}:{port} is not reachable (and is not on this machine, "
            "so it cannot be started from here); check RABBITMQ_URL"
        )
    server = find_tool("rabbitmq-server")
    if server is None:
        raise ServiceError(
            "RabbitMQ is not installed: install it (Debian: `apt-get install rabbitmq-server`) "
            "or point RABBITMQ_URL at a running broker"
        )
    echo("rabbitmq: starting rabbitmq-server -detached")
    deadline = time.monotonic() + max_wait
    code, text = await _run_tool([server, "-detached"], max_wait)
    if not await _wait_port(_connect_host(host), port, deadline):
        raise ServiceError(
            f"RabbitMQ did not answer on {host}:{port} within {max_wait:g}s "
            f"(rabbitmq-server -detached exit {code}): {text.strip()[-800:]}"
        )
    echo(f"rabbitmq: {host}:{port} is up")


async def _management_answers(management_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
            response = await http.get(
                management_url.rstrip("/") + "/api/overview", auth=(RABBIT_USER, RABBIT_PASSWORD)
            )
    except httpx.HTTPError:
        return False
    return response.status_code < 500


def prometheus_url(management_url: str) -> str:
    """The rabbitmq_prometheus endpoint on the management API's host."""
    host, _ = parse_host_port(management_url, 15672)
    return f"http://{_connect_host(host)}:{PROMETHEUS_PORT}/metrics"


async def _prometheus_answers(management_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
            response = await http.get(prometheus_url(management_url))
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def plugin_enabled(list_output: str, plugin: str = MANAGEMENT_PLUGIN) -> bool:
    """Whether `rabbitmq-plugins list -e` output shows `plugin`."""
    return re.search(rf"(?m)^\s*\[[^\]]*\]\s+{re.escape(plugin)}\s", list_output + "\n") is not None


async def _enable_plugin(
    plugin: str,
    host: str,
    answers: Callable[[], Awaitable[bool]],
    what: str,
    max_wait: float,
    echo: Echo,
) -> None:
    """Enable `plugin` on the local broker if needed, then wait until `answers()`."""
    if await answers():
        echo(f"rabbitmq: {what} is up")
        return
    plugins = find_tool("rabbitmq-plugins")
    if plugins is None or not _is_local(host):
        raise ServiceError(
            f"RabbitMQ {what} does not answer; enable it with "
            f"`rabbitmq-plugins enable {plugin}` on the broker"
        )
    deadline = time.monotonic() + max_wait
    code, text = await _run_tool([plugins, "list", "-e"], max_wait)
    if code != 0:
        raise ServiceError(f"`rabbitmq-plugins list -e` failed ({code}): {text.strip()[-800:]}")
    if not plugin_enabled(text, plugin):
        echo(f"rabbitmq: enabling {plugin}")
        code, text = await _run_tool([plugins, "enable", plugin], max_wait)
        if code != 0:
            raise ServiceError(
                f"`rabbitmq-plugins enable {plugin}` failed ({code}): {text.strip()[-800:]}"
            )
    interval = 0.2
    while not await answers():
        if time.monotonic() >= deadline:
            raise ServiceError(f"RabbitMQ {what} not up after {max_wait:g}s")
        await asyncio.sleep(interval)
        interval = min(interval * 1.5, 1.0)
    echo(f"rabbitmq: {what} is up")


async def ensure_rabbitmq_management(
    management_url: str, *, max_wait: float = 60.0, echo: Echo = _quiet
) -> None:
    """The management plugin is enabled and its HTTP API answers."""
    host, _ = parse_host_port(management_url, 15672)
    await _enable_plugin(
        MANAGEMENT_PLUGIN,
        host,
        lambda: _management_answers(management_url),
        f"management API at {management_url}",
        max_wait,
        echo,
    )


async def ensure_rabbitmq_prometheus(
    management_url: str, *, max_wait: float = 60.0, echo: Echo = _quiet
) -> None:
    """The Prometheus plugin is enabled and serves /metrics on :15692 (dashboards, alerts)."""
    host, _ = parse_host_port(management_url, 15672)
    await _enable_plugin(
        PROMETHEUS_PLUGIN,
        host,
        lambda: _prometheus_answers(management_url),
        f"Prometheus endpoint {prometheus_url(management_url)}",
        max_wait,
        echo,
    )


def _vhost_path(vhost: str) -> str:
    return quote(vhost, safe="")


async def ensure_vhost(
    management_url: str,
    vhost: str,
    *,
    user: str = RABBIT_USER,
    password: str = RABBIT_PASSWORD,
) -> None:
    """Create `vhost` (if missing) and grant `user` (guest) every permission on it."""
    base = management_url.rstrip("/")
    async with httpx.AsyncClient(auth=(user, password), timeout=10.0, trust_env=False) as http:
        response = await http.put(f"{base}/api/vhosts/{_vhost_path(vhost)}")
        response.raise_for_status()
        response = await http.put(
            f"{base}/api/permissions/{_vhost_path(vhost)}/{quote(user, safe='')}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        )
        response.raise_for_status()


async def delete_vhost(
    management_url: str,
    vhost: str,
    *,
    user: str = RABBIT_USER,
    password: str = RABBIT_PASSWORD,
) -> None:
    """Delete `vhost` and everything in it; a missing vhost is fine."""
    base = management_url.rstrip("/")
    async with httpx.AsyncClient(auth=(user, password), timeout=10.0, trust_env=False) as http:
        response = await http.delete(f"{base}/api/vhosts/{_vhost_path(vhost)}")
        if response.status_code != 404:
            response.raise_for_status()


# -- all together -------------------------------------------------------------


async def ensure_all(
    database_url: str,
    rabbitmq_url: str,
    management_url: str,
    *,
    echo: Echo = print,
) -> None:
    """Everything `make services` promises, in order."""
    target = parse_database_url(database_url)
    await ensure_postgres(target.host, target.port, echo=echo)
    try:
        await ensure_database(database_url, echo=echo)
    except (asyncpg.PostgresError, OSError) as exc:
        raise ServiceError(
            f"cannot create role/database {target.user}/{target.database} as "
            f"{SUPERUSER}@{target.host}:{target.port}: {exc}"
        ) from exc
    host, port = parse_amqp_url(rabbitmq_url)
    await ensure_rabbitmq(host, port, echo=echo)
    await ensure_rabbitmq_management(management_url, echo=echo)
    await ensure_rabbitmq_prometheus(management_url, echo=echo)
    vhost = amqp_vhost(rabbitmq_url)
    if vhost != "/":
        try:
            await ensure_vhost(management_url, vhost)
        except httpx.HTTPError as exc:
            raise ServiceError(f"cannot create RabbitMQ vhost {vhost}: {exc}") from exc
        echo(f"rabbitmq: vhost {vhost} ok")
