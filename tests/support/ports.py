"""Free loopback ports for the processes a test session starts (see `devstack.ephemeral`)."""

from devstack.ephemeral import free_port

__all__ = ["free_port"]
