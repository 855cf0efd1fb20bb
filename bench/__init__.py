"""Benchmarks against a running stack; `make bench` prints p50/p95/p99 and throughput."""
