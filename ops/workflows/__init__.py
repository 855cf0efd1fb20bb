"""The operations workflows: backup, restore, maintenance, deploy and rollback.

Deterministic and free of I/O imports; they call activities by the names in
`ops.contracts` and share the step toolkit in `ops.steps`.
"""
