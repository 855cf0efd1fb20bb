#!/usr/bin/env bash
# Runbook "Restaurar desde backup": ./scripts/restore-database.sh [FILE]
# FILE is a backup file name in the backup folder; without it (or with "latest", or the
# runbook's "backup_latest.sql") the most recent backup is restored.
# Thin wrapper over `ticketero restore FILE` / `ticketero restore --latest`.
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
if [[ $# -eq 0 || "$1" == "latest" || "$1" == "backup_latest.sql" || "$1" == "--latest" ]]; then
  if [[ $# -gt 0 ]]; then shift; fi
  exec "$ticketero" restore --latest "$@"
fi
exec "$ticketero" restore "$@"
