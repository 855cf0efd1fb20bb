"""Temporal activities of the ticket and notification path: every piece of I/O their
workflows need, each idempotent. The operations activities are in `ops/activities/`."""
