"""Tests of the local-stack tooling (devstack)."""
