"""Operations: backups, restores and routine maintenance run as Temporal workflows.

Kept import-light on purpose: workflow modules import `ops.contracts`, and this
package's `__init__` runs whenever they do.
"""
