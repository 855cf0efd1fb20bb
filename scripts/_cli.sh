# Sourced by the runbook's scripts: find the `ticketero` CLI and work from the repo root
# (.env and relative settings resolve as in the runbook). TICKETERO_CLI may be a whole
# command, e.g. "docker compose exec -T worker ticketero", to drive a compose stack.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -n "${TICKETERO_CLI:-}" ]]; then
  read -r -a ticketero <<< "$TICKETERO_CLI"
elif [[ -x "$root/.venv/bin/ticketero" ]]; then
  ticketero=("$root/.venv/bin/ticketero")
elif command -v ticketero >/dev/null 2>&1; then
  ticketero=(ticketero)
else
  echo "$(basename "$0"): ticketero not found: run make install, or put it on PATH" >&2
  exit 127
fi
