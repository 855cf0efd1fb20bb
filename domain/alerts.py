"""Supervisor alerts: which situations at a branch need a person to act.

The rules work on snapshots that the caller reads from the database, so the
same evaluation runs in a workflow, in an API handler or in a test. Messages
are in Spanish (Chile) because supervisors read them as they are.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.states import AdvisorStatus

__all__ = [
    "AdvisorSnapshot",
    "Alert",
    "AlertKind",
    "AlertThresholds",
    "QueueSnapshot",
    "Severity",
    "evaluate_alerts",
    "within_opening_hours",
]


class AlertKind(StrEnum):
    """What is wrong; also the order in which alerts of one severity are listed."""

    QUEUE_CRITICAL = "QUEUE_CRITICAL"
    EXCESSIVE_WAIT = "EXCESSIVE_WAIT"
    ADVISOR_INACTIVE = "ADVISOR_INACTIVE"
    NOTIFICATIONS_FAILING = "NOTIFICATIONS_FAILING"
    QUEUE_UNATTENDED = "QUEUE_UNATTENDED"


class Severity(StrEnum):
    """How urgently a supervisor should look; HIGH is listed first."""

    HIGH = "HIGH"
    MEDIUM = "MEDIUM"


@dataclass(frozen=True)
class Alert:
    """One alert, with the subject it is about and the measured value."""

    kind: AlertKind
    severity: Severity
    message: str
    queue: str | None = None
    ticket_number: str | None = None
    advisor_id: int | None = None
    value: float | None = None


@dataclass(frozen=True)
class QueueSnapshot:
    """One queue of a branch at one moment.

    `serving_advisors` counts the advisors AVAILABLE or BUSY who serve the
    queue; advisors on a break or offline cannot take its tickets.
    """

    queue: str
    waiting: int
    oldest_wait_seconds: float | None
    oldest_number: str | None
    serving_advisors: int

    def __post_init__(self) -> None:
        if self.waiting < 0 or self.serving_advisors < 0:
            raise ValueError("waiting and serving_advisors must not be negative")
        oldest = self.oldest_wait_seconds
        if oldest is not None and (not math.isfinite(oldest) or oldest < 0):
            raise ValueError("oldest_wait_seconds must be a finite, non-negative number")


@dataclass(frozen=True)
class AdvisorSnapshot:
    """One advisor's status and since when it holds."""

    advisor_id: int
    name: str
    status: str
    status_since: datetime

    def __post_init__(self) -> None:
        _require_aware(self.status_since, "status_since")


@dataclass(frozen=True)
class AlertThresholds:
    """When each rule fires; every comparison is strictly "more than"."""

    queue_critical_waiting: int = 15
    excessive_wait_seconds: float = 3600
    advisor_offline_seconds: float = 1800

    def __post_init__(self) -> None:
        if self.queue_critical_waiting < 0:
            raise ValueError("queue_critical_waiting must not be negative")
        for name, value in (
            ("excessive_wait_seconds", self.excessive_wait_seconds),
            ("advisor_offline_seconds", self.advisor_offline_seconds),
        ):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite, non-negative number")


_DEFAULT_THRESHOLDS = AlertThresholds()
_SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(Severity)}
_KIND_ORDER = {kind: rank for rank, kind in enumerate(AlertKind)}


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _minutes(seconds: float) -> int:
    return math.floor(seconds / 60)


def _turnos(count: int) -> str:
    return "1 turno" if count == 1 else f"{count} turnos"


def _queue_alerts(snapshot: QueueSnapshot, thresholds: AlertThresholds) -> list[Alert]:
    alerts: list[Alert] = []
    name, waiting = snapshot.queue, snapshot.waiting
    if waiting > thresholds.queue_critical_waiting:
        alerts.append(
            Alert(
                kind=AlertKind.QUEUE_CRITICAL,
                severity=Severity.HIGH,
                message=(
                    f"Cola {name} crítica: {_turnos(waiting)} en espera "
                    f"(máximo {thresholds.queue_critical_waiting})."
                ),
                queue=name,
                value=float(waiting),
            )
        )
    oldest = snapshot.oldest_wait_seconds
    if waiting > 0 and oldest is not None and oldest > thresholds.excessive_wait_seconds:
        number = snapshot.oldest_number
        subject = f"el turno {number}" if number else "el turno más antiguo"
        alerts.append(
            Alert(
                kind=AlertKind.EXCESSIVE_WAIT,
                severity=Severity.HIGH,
                message=f"Espera excesiva en {name}: {subject} lleva {_minutes(oldest)} min.",
                queue=name,
                ticket_number=number,
                value=oldest,
            )
        )
    if waiting > 0 and snapshot.serving_advisors == 0:
        alerts.append(
            Alert(
                kind=AlertKind.QUEUE_UNATTENDED,
                severity=Severity.HIGH,
                message=(
                    f"Cola {name} sin atención: {_turnos(waiting)} en espera y ningún "
                    "ejecutivo disponible para atenderla."
                ),
                queue=name,
                value=float(waiting),
            )
        )
    return alerts


def evaluate_alerts(
    queues: Sequence[QueueSnapshot],
    advisors: Sequence[AdvisorSnapshot],
    failed_notifications: int,
    now: datetime,
    within_opening_hours: bool,
    thresholds: AlertThresholds = _DEFAULT_THRESHOLDS,
) -> list[Alert]:
    """Return the alerts that hold now, HIGH first, then by kind and subject.

    A queue that has waiting tickets but no advisor able to serve them gets
    QUEUE_UNATTENDED: such tickets would otherwise wait silently all day.
    Offline advisors are reported only while the branch is open (the caller
    says so with `within_opening_hours`), since outside those hours being
    offline is normal.
    """
    _require_aware(now, "now")
    if failed_notifications < 0:
        raise ValueError("failed_notifications must not be negative")
    alerts = [alert for queue in queues for alert in _queue_alerts(queue, thresholds)]
    if within_opening_hours:
        for advisor in advisors:
            offline_for = (now - advisor.status_since).total_seconds()
            if (
                advisor.status == AdvisorStatus.OFFLINE
                and offline_for > thresholds.advisor_offline_seconds
            ):
                alerts.append(
                    Alert(
                        kind=AlertKind.ADVISOR_INACTIVE,
                        severity=Severity.MEDIUM,
                        message=(
                            f"Ejecutivo {advisor.name}: {_minutes(offline_for)} min sin "
                            "conexión en horario de atención."
                        ),
                        advisor_id=advisor.advisor_id,
                        value=offline_for,
                    )
                )
    if failed_notifications > 0:
        plural = failed_notifications != 1
        alerts.append(
            Alert(
                kind=AlertKind.NOTIFICATIONS_FAILING,
                severity=Severity.HIGH,
                message=(
                    f"{failed_notifications} "
                    + ("notificaciones fallidas" if plural else "notificación fallida")
                    + " de Telegram: hay clientes que no reciben sus avisos."
                ),
                value=float(failed_notifications),
            )
        )
    return sorted(alerts, key=_alert_order)


def _alert_order(alert: Alert) -> tuple[int, int, str, int, str]:
    return (
        _SEVERITY_ORDER[alert.severity],
        _KIND_ORDER[alert.kind],
        alert.queue or "",
        alert.advisor_id if alert.advisor_id is not None else -1,
        alert.ticket_number or "",
    )


def within_opening_hours(now: datetime, tz: str, opens: time, closes: time) -> bool:
    """Tell whether the branch is open: local wall-clock time in ``[opens, closes)``.

    Local time follows the branch's zone, daylight saving time included. Hours
    that close before they open run past midnight; equal hours mean closed.
    """
    _require_aware(now, "now")
    if opens.tzinfo is not None or closes.tzinfo is not None:
        raise ValueError("opens and closes are local wall-clock times without a time zone")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone: {tz!r}") from exc
    local = now.astimezone(zone).time()
    if opens <= closes:
        return opens <= local < closes
    return local >= opens or local < closes
