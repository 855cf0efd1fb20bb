#!/usr/bin/env bash
# Runbook step "Verificar health checks": health UP (waiting while the API starts),
# liveness, readiness, info and metrics. Thin wrapper over `ticketero verify-health`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_cli.sh"
exec "${ticketero[@]}" verify-health "$@"
