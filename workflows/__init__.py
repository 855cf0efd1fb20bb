"""Temporal workflows: deterministic, free of I/O; activities do the work."""
