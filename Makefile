# Ticketero developer tasks; `make help` lists them.
# Works on a fresh clone: the first target that needs Python creates $(VENV).

VENV ?= .venv
PYTHON ?= python3

BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
# Everything mypy checks (ruff checks the whole tree).
PY_PACKAGES := api workflows activities domain db bridge messaging observability assignment ops cli telegram_sandbox devstack chaos worker.py settings.py
PYTEST_ARGS ?=
PIP := $(PY) -m pip --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help install lock services migrate run release test lint bench chaos clean tools

help: ## list the targets
	@echo "Ticketero: make <target>"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(INSTALLED): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q --no-deps -e .
	touch $@

install: $(INSTALLED) ## create the venv; install requirements.lock and the project (editable)

lock: ## regenerate requirements.lock from the venv (pip install the new package first)
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

services: install ## make PostgreSQL and RabbitMQ ready; create the app role, db, mgmt plugin
	$(PY) -m devstack ensure

migrate: services ## apply the database migrations (alembic upgrade head)
	$(PY) -m alembic upgrade head

run: install ## run the whole stack in the foreground (Ctrl-C stops it)
	exec $(PY) -m devstack run

release: install ## build a release wheel + sha256 into var/releases/ (VERSION=1.4.0, default from git)
	$(BIN)/ticketero release $(if $(VERSION),--version $(VERSION))

test: install services tools lint ## lint, then the whole test suite (PYTEST_ARGS=... to narrow)
	$(PY) scripts/run_pytest.py $(PYTEST_ARGS)

lint: install ## ruff check, ruff format --check, mypy, import direction (lint-imports)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PY_PACKAGES)
	$(BIN)/lint-imports

# Debian packages the observability/deployment tests use: prometheus (with promtool)
# and docker-compose v1 (validates compose files without a container engine); the
# browser tests (tests/pages) drive chromium through chromium-driver.
tools: ## install prometheus/promtool, docker-compose, chromium + chromedriver (Debian) when missing
	@missing=""; \
	command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v docker-compose >/dev/null 2>&1 || missing="$$missing docker-compose"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/bin/chromedriver || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		echo "tools: installing$$missing"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

BENCH_DEFAULTS ?= --near-limit --endurance 10000
bench: install ## baseline vs stack: latency, throughput, CPU per ticket, RSS after 2x10k tickets (ARGS="--json out.json"; BENCH_DEFAULTS= for the short form)
	$(PY) -m bench --self-hosted $(BENCH_DEFAULTS) $(ARGS)

chaos: install services ## faults under load on a private stack, then the invariants (CHAOS_ARGS=...)
	$(PY) -m chaos $(CHAOS_ARGS)

clean: ## remove var/ (Temporal dev db, logs) and caches; keeps the venv
	rm -rf var .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	find . -path './$(VENV)' -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
