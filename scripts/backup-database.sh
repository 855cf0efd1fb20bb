#!/usr/bin/env bash
# Runbook "Backup de base de datos": runs the BackupWorkflow on Temporal and follows it
# (dump, compression, retention, report). `--variant full|clean|data-only`, `--no-wait`.
# Thin wrapper over `ticketero backup`; exit 0 when the backup is ok.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_cli.sh"
exec "${ticketero[@]}" backup "$@"
