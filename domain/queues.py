"""The service queues of a branch and their default settings.

Branches may override these values; the defaults are what a new branch starts
with and what wait estimates are seeded with before any service is measured.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from domain.numbering import PREFIX_PATTERN

__all__ = [
    "DEFAULT_QUEUE_SETTINGS",
    "QueueName",
    "QueueSettings",
    "parse_queue",
]


class QueueName(StrEnum):
    """The kinds of service a customer can queue for."""

    CAJA = "CAJA"
    PERSONAL_BANKER = "PERSONAL_BANKER"
    EMPRESAS = "EMPRESAS"
    GERENCIA = "GERENCIA"


@dataclass(frozen=True)
class QueueSettings:
    """How one queue behaves at a branch.

    `priority` orders queues when an advisor serves several (higher first);
    `notify_threshold` is the position at which the "your turn is near"
    message goes out; `target_wait_minutes` is the wait after which a ticket
    jumps ahead of higher-priority queues so that no queue starves;
    `no_show_seconds` is how long a called customer has to reach the desk.
    """

    prefix: str
    avg_service_seconds: int
    priority: int
    notify_threshold: int
    target_wait_minutes: int
    no_show_seconds: int

    def __post_init__(self) -> None:
        if PREFIX_PATTERN.fullmatch(self.prefix) is None:
            raise ValueError("queue prefix must be 1 to 3 upper-case letters A-Z")
        positive = {
            "avg_service_seconds": self.avg_service_seconds,
            "priority": self.priority,
            "notify_threshold": self.notify_threshold,
            "target_wait_minutes": self.target_wait_minutes,
            "no_show_seconds": self.no_show_seconds,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")


_NOTIFY_THRESHOLD = 3
_NO_SHOW_SECONDS = 5 * 60

# Target waits (minutes): 15 / 30 / 40 / 45. The teller gets three average
# services (a 5-minute errand should not cost more than a quarter of an hour),
# the advisory queues one and a half to two, because their services are long
# and a tighter target would let a single appointment reshuffle the line. All
# stay well below the 60-minute "excessive wait" alert, so the anti-starvation
# rule moves a ticket forward before a supervisor has to step in.
DEFAULT_QUEUE_SETTINGS: Mapping[QueueName, QueueSettings] = MappingProxyType(
    {
        QueueName.CAJA: QueueSettings(
            prefix="C",
            avg_service_seconds=5 * 60,
            priority=1,
            notify_threshold=_NOTIFY_THRESHOLD,
            target_wait_minutes=15,
            no_show_seconds=_NO_SHOW_SECONDS,
        ),
        QueueName.PERSONAL_BANKER: QueueSettings(
            prefix="P",
            avg_service_seconds=15 * 60,
            priority=2,
            notify_threshold=_NOTIFY_THRESHOLD,
            target_wait_minutes=30,
            no_show_seconds=_NO_SHOW_SECONDS,
        ),
        QueueName.EMPRESAS: QueueSettings(
            prefix="E",
            avg_service_seconds=20 * 60,
            priority=3,
            notify_threshold=_NOTIFY_THRESHOLD,
            target_wait_minutes=40,
            no_show_seconds=_NO_SHOW_SECONDS,
        ),
        QueueName.GERENCIA: QueueSettings(
            prefix="G",
            avg_service_seconds=30 * 60,
            priority=4,
            notify_threshold=_NOTIFY_THRESHOLD,
            target_wait_minutes=45,
            no_show_seconds=_NO_SHOW_SECONDS,
        ),
    }
)

_ALLOWED = ", ".join(q.value for q in QueueName)


def parse_queue(raw: str) -> QueueName:
    """Read a queue name from user input.

    Case, surrounding spaces and spaces or hyphens instead of underscores are
    tolerated (``"personal banker"``), because the value comes from forms and
    chat commands; anything else is rejected with the list of valid names.
    """
    key = raw.strip().upper().replace("-", "_").replace(" ", "_")
    try:
        if not raw.isascii():  # "ı".upper() == "I": no look-alike spellings
            raise ValueError(key)
        return QueueName(key)
    except ValueError:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise ValueError(f"unknown queue {shown!r}; allowed values: {_ALLOWED}") from None
