# One image for every Ticketero process (api, worker, bridge); the command picks which.
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.lock ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.lock
COPY . .
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11-slim
ARG GIT_COMMIT=unknown
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 GIT_COMMIT=$GIT_COMMIT LOG_FORMAT=json
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app ticketero
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=ticketero alembic.ini ./
COPY --chown=ticketero db/migrations ./db/migrations
USER ticketero
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/actuator/health/liveness || exit 1
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8080", "--proxy-headers"]
