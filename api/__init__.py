"""HTTP API (FastAPI): thin routes over services that talk to Temporal and the read model."""
