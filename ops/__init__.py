"""Operations: backups, restores, routine maintenance, deploys and rollbacks, run as
Temporal workflows on their own task queue.

`contracts` (names and payloads, defined once), `steps` (the step toolkit the
workflows share), `workflows/`, `activities/`, `checks` (health and smoke checks
shared by the deploy activities and the CLI), `client` (start, follow, describe
runs and schedules: used by the CLI and the operator API), `schedules`, `worker`.

Kept import-light on purpose: workflow modules import `ops.contracts` and
`ops.steps`, and this package's `__init__` runs whenever they do.
"""
