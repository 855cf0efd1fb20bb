"""The isolated stack of a test session: it lives in `devstack.ephemeral`, the bench uses it too."""

from devstack.ephemeral import PG, REPO, Stack, migrate, start_stack, stop_stack

__all__ = ["PG", "REPO", "Stack", "migrate", "start_stack", "stop_stack"]
