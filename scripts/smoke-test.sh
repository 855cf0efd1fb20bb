#!/usr/bin/env bash
# Runbook "Functional test": health UP, take a ticket at branch "Smoke Test", cancel it.
# Thin wrapper over `ticketero smoke-test` (`--url` for another API than PUBLIC_BASE_URL).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"  # .env and relative settings (var/, docker-compose.yml) resolve as in the runbook
ticketero="${TICKETERO_CLI:-}"
if [[ -z "$ticketero" ]]; then
  if [[ -x "$root/.venv/bin/ticketero" ]]; then
    ticketero="$root/.venv/bin/ticketero"
  elif command -v ticketero >/dev/null 2>&1; then
    ticketero="ticketero"
  else
    echo "$(basename "$0"): ticketero not found: run make install, or put it on PATH" >&2
    exit 127
  fi
fi
exec "$ticketero" smoke-test "$@"
