"""Persistence: the PostgreSQL schema, the engine and the queries the processes share."""
