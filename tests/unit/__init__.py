"""Unit tests of the pure domain rules (no services needed)."""
