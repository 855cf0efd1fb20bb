"""`ticketero`: the operator CLI (backups, restores, maintenance, deploys, checks)."""
