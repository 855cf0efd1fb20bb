"""Temporal workflows of the ticket and notification path: deterministic, free of I/O;
activities do the work. The operations workflows are in `ops/workflows/`."""
