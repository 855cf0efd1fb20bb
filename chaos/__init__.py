"""Fault injection and invariant checking: `python -m chaos` (`make chaos`).

A private stack with two API processes, two workers and two bridges serves a steady
load of ticket lives while processes are killed and PostgreSQL, RabbitMQ, Temporal and
Telegram are taken away, one at a time and then together; afterwards every acknowledged
ticket and message is accounted for (chaos/invariants.py) and a table says, per fault,
what the client saw, how long recovery took and what was lost or duplicated.
"""
