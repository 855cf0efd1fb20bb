"""One settings object for every Ticketero process.

Values come from the environment (and an optional `.env` file), so the same
code runs on a laptop, in CI and in containers. Secrets are `SecretStr` so
they never show up in a repr or a log line.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Key used to pseudonymise national ids when none is configured (dev only).
DEV_NATIONAL_ID_KEY = "dev-only-national-id-key-change-me"
#: Key signing access tokens when none is configured (dev only).
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"  # noqa: S105 - dev default
#: Key signing Telegram deep-link payloads when none is configured (dev only).
DEV_LINK_SECRET = "dev-only-telegram-link-secret"  # noqa: S105 - dev default
#: Key deriving ticket references from Idempotency-Keys when none is configured (dev only).
DEV_REFERENCE_KEY = "dev-only-ticket-reference-key-change-me"
#: Token the sandbox accepts; the real one comes from TELEGRAM_BOT_TOKEN.
SANDBOX_BOT_TOKEN = "sandbox-token"  # noqa: S105 - not a secret: the sandbox accepts only this

#: The only APP_ENV values that may run with missing, short or development secrets.
DEV_ENVIRONMENTS = frozenset({"dev", "test"})
#: Shortest secret accepted elsewhere (`openssl rand -hex 32` gives 64 characters).
MIN_SECRET_LENGTH = 32
_DEV_SECRETS = frozenset({DEV_NATIONAL_ID_KEY, DEV_JWT_SECRET, DEV_LINK_SECRET, DEV_REFERENCE_KEY})
#: Placeholders of the dev defaults and of .env.example.
_PLACEHOLDERS = ("change-me", "changeme", "dev-only")


class InsecureSettingsError(RuntimeError):
    """A process outside dev/test was given a missing, short or development secret.

    Not a ValueError on purpose: pydantic lets it through as is, so the message
    (which names the variables, never their values) is all that is printed.
    """


class Settings(BaseSettings):
    """Runtime configuration; every field is documented in the README."""

    # An empty variable means "not set": compose passes optional values through as "".
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    app_env: str = "dev"  # outside dev/test, weak secrets stop the process (check_secrets)
    api_host: str = "0.0.0.0"  # noqa: S104 - the API is meant to be reachable
    api_port: int = 8080
    public_base_url: str = "http://localhost:8080"

    database_url: str = "postgresql+asyncpg://ticketero:ticketero@127.0.0.1:5432/ticketero"
    db_pool_size: int = 10
    db_max_overflow: int = 10

    rabbitmq_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    rabbitmq_management_url: str = "http://127.0.0.1:15672"
    rabbitmq_exchange: str = "ticketero.events"

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "ticketero"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    #: How the API creates a ticket. "update_with_start" (default): the workflow's local
    #: activity inserts it inside one atomic update-with-start. "start_then_update": the
    #: same in two calls, for servers without multi-operations. "row_then_start": the
    #: API's transaction inserts it, then update-with-start gives the workflow the row (no
    #: local activity, no upsert; rows whose start it did not see are adopted by the sweep
    #: below): less worker CPU, but the "created" messages it starts go through matching
    #: and, near saturation, more creations time out (docs/PERFORMANCE.md).
    temporal_create_mode: Literal["update_with_start", "start_then_update", "row_then_start"] = (
        "update_with_start"
    )
    #: False for servers without update-with-start (the time-skipping test server): the
    #: API's start and its `create` update are then two calls.
    temporal_multi_operations: bool = True
    #: A row still unadopted this long after its commit gets its workflow started by the
    #: API's adoption sweep (which runs this often); 0 turns the sweep off.
    ticket_adoption_seconds: float = 5.0

    telegram_bot_token: SecretStr = SecretStr("")
    telegram_api_base: str = "https://api.telegram.org"
    telegram_bot_username: str = "TicketeroSandboxBot"
    telegram_link_secret: SecretStr = SecretStr(DEV_LINK_SECRET)
    telegram_updates: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr = SecretStr("")
    telegram_timeout_seconds: float = 10.0
    #: Messages per second for the whole bot (Telegram allows about 30); lower it to share
    #: a bot with another sender. Near it, calls and recalls go before the rest.
    telegram_send_rate: float = Field(default=30.0, gt=0)
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8081

    national_id_key: SecretStr = SecretStr(DEV_NATIONAL_ID_KEY)
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    reference_key: SecretStr = SecretStr(DEV_REFERENCE_KEY)
    jwt_ttl_minutes: int = 480
    bootstrap_supervisor_username: str = ""
    bootstrap_supervisor_password: SecretStr = SecretStr("")
    # --- login throttling (see README "Security") ---
    login_max_failures: int = Field(default=5, ge=1)  # wrong passwords before a lockout
    login_lockout_seconds: int = Field(default=900, ge=1)  # how long a lockout lasts
    login_rate_per_minute_per_address: int = Field(default=20, ge=1)  # failed logins, per replica
    default_time_zone: str = "America/Santiago"
    default_language: str = "es"
    # Live (SSE) streams open at once per API process: per client address and in total.
    sse_max_per_client: int = Field(default=5, ge=1)
    sse_max_total: int = Field(default=500, ge=1)

    # --- operations (backup, maintenance, deploy) ---
    backup_dir: Path = Path("var/backups")
    backup_retention_days: int = 30
    log_dir: Path = Path("var/log")
    log_retention_days: int = 7
    disk_alert_percent: float = 80.0
    error_alert_threshold: int = 10
    ops_alert_chat_id: int | None = None
    tls_cert_path: Path | None = None
    ops_time_zone: str = "America/Santiago"
    container_engine: Literal["none", "docker"] = "none"
    docker_bin: str = "docker"
    compose_file: Path = Path("docker-compose.yml")
    compose_project: str = "ticketero"
    deploy_service: str = "api"
    deploy_image: str = "ticketero-api"
    deploy_health_url: str = "http://localhost:8080/actuator/health"
    deploy_health_timeout_seconds: float = 60.0

    # Who operators call at each support level (free text: e-mail, phone, channel).
    support_l1_contact: str = ""
    support_l2_contact: str = ""
    support_l3_contact: str = ""

    # --- metrics of the non-API processes (0 disables the endpoint) ---
    worker_metrics_port: int = 9464
    worker_sdk_metrics_port: int = 9465
    bridge_metrics_port: int = 9466
    ops_worker_metrics_port: int = 9467

    # --- workers: one graceful period at shutdown, within compose's stop_grace_period ---
    worker_shutdown_seconds: float = Field(default=15.0, ge=0)
    # Run the ticket workflows in the Temporal sandbox (runtime determinism checks, ~3x the
    # worker CPU per ticket): only to chase a suspected non-determinism on a dev stack.
    worker_sandboxed_workflows: bool = False
    # Open workflows kept in the worker's sticky cache (~0.1 MB each: 1000 -> ~225 MB RSS,
    # 100 -> ~135 MB); an evicted ticket replays its whole history on its next task (~20 ms
    # of worker CPU for a full day's history), so trade RSS for CPU only when memory is short.
    worker_max_cached_workflows: int = Field(default=1000, ge=0)

    # --- limits (README "Security"); rates use the `limits` notation, e.g. "20/minute" ---
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    trusted_proxies: str = ""  # comma-separated IPs/CIDRs whose X-Forwarded-For is believed
    ticket_rate_limit: str = "20/minute"  # ticket creations per client address
    kiosk_ticket_rate_limit: str = "600/minute"  # ticket creations per kiosk token
    page_size_default: int = Field(default=100, ge=1)
    page_size_max: int = Field(default=500, ge=1)
    branches_in_error_max: int = Field(default=20, ge=0)  # names listed by an unknown-branch 404

    log_to_file: bool = False  # also write JSON logs to <log_dir>/<service>.log (containers)
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|text)$")
    var_dir: Path = Path("var")
    git_commit: str = ""

    # --- HTTP hardening (api/security_headers.py) ---
    cors_origins: str = ""  # comma-separated origins allowed by CORS; empty = CORS off

    @model_validator(mode="after")
    def check_secrets(self) -> Self:
        """Outside APP_ENV=dev/test, refuse missing, short or development secrets."""
        if self.app_env.strip().lower() in DEV_ENVIRONMENTS:
            return self
        problems = weak_secrets(self)
        if problems:
            raise InsecureSettingsError(
                f"refusing to start with APP_ENV={self.app_env!r}: "
                + "; ".join(problems)
                + f" (set each to a random string of at least {MIN_SECRET_LENGTH} characters,"
                " e.g. `openssl rand -hex 32`)"
            )
        return self

    @property
    def sandbox_mode(self) -> bool:
        """No bot token means Telegram is our own sandbox on loopback."""
        return not self.telegram_bot_token.get_secret_value()

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.sandbox_host}:{self.sandbox_port}"

    @property
    def telegram_base(self) -> str:
        return self.sandbox_url if self.sandbox_mode else self.telegram_api_base.rstrip("/")

    @property
    def telegram_token(self) -> str:
        return (
            SANDBOX_BOT_TOKEN if self.sandbox_mode else self.telegram_bot_token.get_secret_value()
        )


def weak_secrets(settings: Settings) -> list[str]:
    """One line per missing, short or development secret, naming the variable only."""
    secrets = {
        "JWT_SECRET": settings.jwt_secret,
        "NATIONAL_ID_KEY": settings.national_id_key,
        "TELEGRAM_LINK_SECRET": settings.telegram_link_secret,
        "REFERENCE_KEY": settings.reference_key,
    }
    if settings.telegram_updates == "webhook":
        secrets["TELEGRAM_WEBHOOK_SECRET"] = settings.telegram_webhook_secret
    problems = []
    for name, secret in secrets.items():
        value = secret.get_secret_value()
        if not value.strip():
            problems.append(f"{name} is not set")
        elif value in _DEV_SECRETS or any(p in value.lower() for p in _PLACEHOLDERS):
            problems.append(f"{name} is a development or placeholder value")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
    return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once per process."""
    return Settings()
