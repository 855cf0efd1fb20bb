"""RUNBOOK.md is executable documentation: every command in its bash blocks is classified,
checked to exist (CLI subcommands and options, scripts, make targets, compose services),
and the cheap ones (curl of the API, Prometheus and RabbitMQ, metrics greps, py-spy, log
tail, df) run against the session's stack. Commands needing a container engine sit in
blocks that start with `# requiere: motor de contenedores`.

Long because it classifies every kind of runbook command in one pass over the document.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.observability.conftest import RunningPrometheus, Traffic, stack_log_dir
from tests.observability.support import COMPOSE_FILE, REPO, RUNBOOK, load_yaml
from tests.support.branches import add_branch
from tests.support.stack import Stack

CONTAINER_MARK = "# requiere: motor de contenedores"
PGREP_API = "$(pgrep -of 'uvicorn api.main:app')"
#: Options of `docker compose <subcommand>` that take a value.
COMPOSE_VALUE_OPTIONS = {"--tail", "--scale", "--since", "--profile", "-f", "-p", "--env-file"}
SCRIPT_ARGS = {"restore-database.sh": {"latest", "backup_latest.sql", "--latest"}}


@dataclass(frozen=True)
class Command:
    line: str
    container: bool
    block: int

    @property
    def words(self) -> list[str]:
        return shlex.split(self.line)


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M)


def commands() -> list[Command]:
    found = []
    for number, block in enumerate(bash_blocks(RUNBOOK.read_text(encoding="utf-8"))):
        container = block.lstrip().startswith(CONTAINER_MARK)
        joined = re.sub(r"\\\n\s*", " ", block)
        for raw in joined.splitlines():
            line = raw.strip()
            if line and not line.startswith("#"):
                found.append(Command(line, container, number))
    return found


def classify(command: Command) -> str:
    """container | cli | script | make | curl-api | curl-prometheus | curl-rabbitmq |
    curl-external | py-spy | log | disk | watch | wait-loop; anything else is an error."""
    if command.container:
        return "container"
    first = command.words[0]
    if first in ("docker", "docker-compose"):
        return "unmarked-container"
    if first == "ticketero":
        return "cli"
    if first.startswith("./scripts/"):
        return "script"
    if first == "make":
        return "make"
    if first == "curl":
        url = next(w for w in command.words if "://" in w)
        host = urlsplit(url).netloc.rsplit("@", 1)[-1]
        return {
            "localhost:8080": "curl-api",
            "localhost:9090": "curl-prometheus",
            "localhost:15672": "curl-rabbitmq",
            "api.telegram.org": "curl-external",
        }.get(host, f"curl to {host}")
    if first == ".venv/bin/py-spy":
        return "py-spy"
    if first == "tail" and "var/log/" in command.line:
        return "log"
    if first == "df":
        return "disk"
    if first == "watch":
        return "watch"
    if first == "timeout":
        return "wait-loop"
    return "unclassified"


RUNNABLE = {"curl-api", "curl-prometheus", "curl-rabbitmq", "py-spy", "log", "disk", "watch"}
RUNNABLE |= {"wait-loop"}
CHECKED = {"container", "cli", "script", "make", "curl-external"}


# -- the CLI, scripts and make targets exist --------------------------------------------


def ticketero_binary() -> str:
    path = Path(sys.executable).parent / "ticketero"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make install` (console script of cli.main)")
    return str(path)


@cache
def cli_help(subcommand: str | None) -> str:
    argv = [ticketero_binary(), *([subcommand] if subcommand else []), "--help"]
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{' '.join(argv)}: {result.stderr}"
    return result.stdout


def cli_subcommands() -> set[str]:
    """The COMMAND list of `ticketero --help` (argparse: an indented name, then its help)."""
    listing = cli_help(None).split("positional arguments:", 1)[1].split("options:", 1)[0]
    return set(re.findall(r"^ {4}([a-z][a-z-]*)", listing, re.M))


def check_cli_words(words: list[str], where: str) -> None:
    """`ticketero SUB [args]`: SUB exists, its options exist, a choice argument is valid."""
    assert words[0] == "ticketero"
    sub = words[1]
    assert sub in cli_subcommands(), f"{where}: `ticketero {sub}` is not a command"
    help_text = cli_help(sub)
    for word in words[2:]:
        if word.startswith("--"):
            option = word.split("=", 1)[0]
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text), (
                f"{where}: `ticketero {sub}` has no option {option}"
            )
    usage = help_text.split("\n\n", 1)[0]
    option_choices = dict(re.findall(r"(--[a-z-]+) \{([^}]+)\}", usage))
    for option, allowed in option_choices.items():
        if option in words[:-1]:
            value = words[words.index(option) + 1]
            assert value in allowed.split(","), (
                f"{where}: `{option} {value}` is not one of {{{allowed}}}"
            )
    positional_choices = re.findall(r"(?<![a-z] )\{([^}]+)\}", usage)
    valued = set(re.findall(r"(--[a-z-]+) [A-Z{]", usage))
    positionals = [
        w
        for i, w in enumerate(words[2:], start=2)
        if not w.startswith("-") and words[i - 1] not in valued
    ]
    if positional_choices and positionals:
        allowed = positional_choices[0].split(",")
        assert positionals[0] in allowed, (
            f"{where}: `ticketero {sub} {positionals[0]}` is not one of {allowed}"
        )


def script_subcommand(script: Path) -> str:
    pattern = re.escape('exec "${ticketero[@]}" ') + r"([a-z-]+)"
    match = re.search(pattern, script.read_text(encoding="utf-8"))
    assert match, f"{script.name} does not exec a ticketero command"
    return match.group(1)


def check_script(words: list[str], where: str) -> None:
    path = REPO / words[0]
    assert path.is_file(), f"{where}: {words[0]} does not exist"
    assert path.stat().st_mode & 0o111, f"{where}: {words[0]} is not executable"
    extra = [w for w in words[1:] if w not in SCRIPT_ARGS.get(path.name, set())]
    check_cli_words(["ticketero", script_subcommand(path), *extra], where)


def compose_services() -> tuple[set[str], set[str]]:
    services = load_yaml(COMPOSE_FILE)["services"]
    names = {s["container_name"] for s in services.values() if "container_name" in s}
    return set(services), names


def segments(words: list[str]) -> list[list[str]]:
    """The simple commands of a line (split at `||`, `&&`, `;` and `|`)."""
    parts: list[list[str]] = [[]]
    for word in words:
        if word in ("||", "&&", ";", "|"):
            parts.append([])
        else:
            parts[-1].append(word)
    return [part for part in parts if part]


def check_container_line(words: list[str], where: str) -> None:
    for part in segments(words):
        check_container_command(part, where)


def check_container_command(words: list[str], where: str) -> None:
    """Compose service and container names exist; an inner `ticketero ...` is checked too."""
    services, containers = compose_services()
    if words[0] == "ticketero":
        check_cli_words(words, where)
    if words[0].startswith("./scripts/"):
        check_script(words, where)
    if words[0] == "docker" and len(words) > 2 and words[1] == "exec":
        target = next(w for w in words[2:] if not w.startswith("-"))
        assert target in containers, f"{where}: no container named {target}"
    compose_at = None
    if words[:2] == ["docker", "compose"]:
        compose_at = 2
    elif len(words) > 3 and words[1:3] == ["docker", "compose"]:
        compose_at = 3  # VAR=value docker compose ...
    if compose_at is None or len(words) <= compose_at:
        return
    sub, rest = words[compose_at], words[compose_at + 1 :]
    named: list[str] = []
    skip = False
    for i, word in enumerate(rest):
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in COMPOSE_VALUE_OPTIONS
            if word.startswith("--scale"):
                scaled = rest[i + 1] if word == "--scale" else word.split("=")[1]
                named.append(scaled.split("=")[0])
            continue
        if word == ">":
            break
        named.append(word)
        if sub in ("exec", "run"):
            inside = rest[i + 1 :]  # the command run in the container
            if inside and inside[0] == "ticketero":
                check_cli_words(inside, where)
            break
    if sub in ("up", "stop", "start", "restart", "logs", "exec", "run", "ps", "pull", "images"):
        unknown = set(named) - services
        assert not unknown, f"{where}: no compose service {sorted(unknown)}"


def test_every_runbook_command_is_classified() -> None:
    found = commands()
    assert len(found) > 60
    wrong = [(c.line, kind) for c in found if (kind := classify(c)) not in RUNNABLE | CHECKED]
    assert not wrong, f"commands that are neither runnable nor marked as container-only: {wrong}"
    kinds = {classify(c) for c in found}
    assert {"container", "cli", "script", "make", "curl-api", "curl-prometheus"} <= kinds


def test_cli_subcommands_scripts_make_targets_and_compose_names_exist() -> None:
    found = commands()
    with ThreadPoolExecutor(max_workers=8) as pool:  # warm the --help cache in parallel
        subs = {c.words[1] for c in found if classify(c) == "cli"} | {None}
        subs |= {"backup", "restore", "verify-health", "smoke-test", "wait-for-services"}
        list(pool.map(cli_help, subs))
    assert {
        "backup",
        "restore",
        "maintenance",
        "deploy",
        "rollback",
        "runs",
        "report",
        "schedules",
        "health",
        "verify-health",
        "smoke-test",
        "wait-for-services",
    } <= cli_subcommands()
    for command in found:
        where = f"RUNBOOK block {command.block}: {command.line}"
        kind = classify(command)
        if kind == "cli":
            check_cli_words(command.words, where)
        elif kind == "script":
            check_script(command.words, where)
        elif kind == "make":
            target = command.words[1]
            result = subprocess.run(
                ["make", "-n", target], cwd=REPO, capture_output=True, text=True, timeout=60
            )
            assert result.returncode == 0, f"{where}: {result.stderr}"
        elif kind == "container":
            check_container_line(command.words, where)
        elif kind == "curl-external":
            assert "https://api.telegram.org/bot${TELEGRAM_BOT_TOKEN}/getMe" in command.line


def test_runbook_maps_every_seed_procedure() -> None:
    """The operators' contract: each procedure of the seed runbook has its command here."""
    text = RUNBOOK.read_text(encoding="utf-8")
    for needle in (
        "./scripts/wait-for-services.sh",
        "./scripts/verify-health.sh",
        "./scripts/backup-database.sh",
        "./scripts/restore-database.sh",
        "./scripts/smoke-test.sh",
        "ticketero deploy",
        "ticketero rollback",
        "ticketero backup --variant clean",
        "ticketero backup --variant data-only",
        "ticketero restore --latest",
        "ticketero maintenance daily",
        "ticketero maintenance weekly",
        "ticketero maintenance monthly",
        "ticketero schedules list",
        "pg_basebackup",
        "--scale api=3",
        "py-spy dump",
        "process_resident_memory_bytes",
        "ticketero_db_pool_checked_out",
        "python_gc_collections_total",
        "### API No Responde",
        "### Base de Datos Corrupta",
        "### Telegram API Down",
        "make run",
        "make test",
        "make bench",
    ):
        assert needle in text, f"RUNBOOK.md lacks {needle!r}"
    for anchor in re.findall(r"\]\(#([a-z0-9-]+)\)", text):
        assert f'<a id="{anchor}"></a>' in text, f"link to missing anchor #{anchor}"


# -- the cheap commands, run against the stack -------------------------------------------


def runnable(
    stack: Stack, prometheus: RunningPrometheus, branch: str
) -> Iterator[tuple[Command, str]]:
    """(command, bash line to run) with the stack's URLs, API pid and log folder."""
    api = stack.api_url
    for command in commands():
        kind = classify(command)
        if kind not in RUNNABLE:
            continue
        line = re.sub(r"\s*\|\|\s*echo .*$", "", command.line)  # let failures fail
        if kind == "watch":
            line = re.search(r"watch(?: -n \d+)? '(.*)'$", line).group(1)  # type: ignore[union-attr]
        line = line.replace("http://localhost:8080", api)
        line = line.replace("http://localhost:9090", prometheus.url)
        line = line.replace(PGREP_API, str(stack.supervisor.pid("api")))
        line = line.replace("var/log/", f"{stack_log_dir(stack)}/")
        # the functional test's ticket goes to a branch of its own: the e2e tests expect
        # the runbook's own body ("Test") to create the first active ticket there
        line = line.replace('"branchOffice":"Test"', f'"branchOffice":"{branch}"')
        yield command, line


@pytest.mark.e2e
async def test_runnable_commands_succeed_against_the_stack(
    stack: Stack,
    prometheus: RunningPrometheus,
    traffic: Traffic,
    repo_env: dict[str, str],
    api: httpx.AsyncClient,
) -> None:
    assert PGREP_API in RUNBOOK.read_text(encoding="utf-8")
    jobs = list(runnable(stack, prometheus, await add_branch(api, "Runbook")))
    assert any('"branchOffice":"Runbook' in line for _, line in jobs)
    kinds = {classify(c) for c, _ in jobs}
    assert {"curl-api", "curl-prometheus", "curl-rabbitmq", "py-spy", "log", "watch"} <= kinds

    async def run(line: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            "bash",
            "-o",
            "pipefail",
            "-c",
            line,
            cwd=REPO,
            env=repo_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 70)
        return proc.returncode or 0, out.decode(errors="replace")

    # one after the other, as an operator types them (a burst of 40 scrapes is no test)
    results = [await run(line) for _, line in jobs]
    failed = [
        f"{command.line}\n  ran: {line}\n  exit {code}: {out[-400:]}"
        for (command, line), (code, out) in zip(jobs, results, strict=True)
        if code != 0
    ]
    assert not failed, "runbook commands failing:\n" + "\n".join(failed)
    greps = {
        match.group(1)
        for command, _ in jobs
        if (match := re.search(r"\| grep (\w+)", command.line))
    }
    assert {
        "http_server_requests_seconds",
        "process_resident_memory_bytes",
        "ticketero_db_pool_checked_out",
        "tickets_created_total",
        "telegram_messages_sent_total",
        "telegram_errors_total",
    } <= greps
