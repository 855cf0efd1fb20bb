#!/usr/bin/env bash
# Runbook "Restaurar desde backup": ./scripts/restore-database.sh [FILE]
# FILE is a backup file name in the backup folder; without it (or with "latest", or the
# runbook's "backup_latest.sql") the most recent backup is restored.
# Thin wrapper over `ticketero restore FILE` / `ticketero restore --latest`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_cli.sh"
if [[ $# -eq 0 || "$1" == "latest" || "$1" == "backup_latest.sql" || "$1" == "--latest" ]]; then
  if [[ $# -gt 0 ]]; then shift; fi
  exec "${ticketero[@]}" restore --latest "$@"
fi
exec "${ticketero[@]}" restore "$@"
