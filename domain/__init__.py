"""Ticketero's business rules as pure functions and value objects.

Everything here is deterministic and free of I/O so that Temporal workflows can
import it inside their sandbox and replay it safely, and so that the API, the
workers and the tests all share one definition of each rule.
"""
