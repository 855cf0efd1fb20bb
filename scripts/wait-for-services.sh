#!/usr/bin/env bash
# Runbook step "Esperar que servicios estén listos": wait until PostgreSQL, RabbitMQ,
# Temporal and the API answer (`--services postgres,rabbitmq` for a subset, `--timeout S`).
# Thin wrapper over `ticketero wait-for-services`; exit 0 when all answer.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_cli.sh"
exec "${ticketero[@]}" wait-for-services "$@"
