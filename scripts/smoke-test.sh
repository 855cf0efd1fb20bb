#!/usr/bin/env bash
# Runbook "Functional test": health UP, take a ticket at branch "Smoke Test", cancel it.
# Thin wrapper over `ticketero smoke-test` (`--url` for another API than PUBLIC_BASE_URL).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_cli.sh"
exec "${ticketero[@]}" smoke-test "$@"
