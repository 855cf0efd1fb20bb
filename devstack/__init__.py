"""Local-stack tooling: backing services, a process supervisor and `make run`.

`python -m devstack ensure` makes PostgreSQL/RabbitMQ ready; `python -m devstack
run` runs the whole stack in the foreground. Tests reuse the same pieces.
"""

from devstack.services import delete_vhost, drop_database, ensure_database, ensure_vhost
from devstack.supervisor import ProcessSpec, ProcessStartError, Supervisor

__all__ = [
    "ProcessSpec",
    "ProcessStartError",
    "Supervisor",
    "delete_vhost",
    "drop_database",
    "ensure_database",
    "ensure_vhost",
]
