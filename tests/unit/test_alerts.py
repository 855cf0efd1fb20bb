"""Supervisor alerts: each rule, its boundary, the order, and opening hours.

Long because every alert rule has its own boundary cases, kept beside the rule order they share.
"""

import dataclasses
import math
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.alerts import (
    AdvisorSnapshot,
    Alert,
    AlertKind,
    AlertThresholds,
    QueueSnapshot,
    Severity,
    evaluate_alerts,
    within_opening_hours,
)

SANTIAGO = "America/Santiago"
NOW = datetime(2025, 3, 3, 11, 0, tzinfo=ZoneInfo(SANTIAGO))
MINUTE = timedelta(minutes=1)


def queue(
    name: str = "CAJA",
    waiting: int = 0,
    oldest_minutes: float | None = None,
    oldest_number: str | None = None,
    serving: int = 1,
) -> QueueSnapshot:
    oldest = None if oldest_minutes is None else oldest_minutes * 60
    return QueueSnapshot(name, waiting, oldest, oldest_number, serving)


def advisor(
    advisor_id: int = 1, status: str = "OFFLINE", minutes: float = 0, name: str = "Ana"
) -> AdvisorSnapshot:
    return AdvisorSnapshot(advisor_id, name, status, NOW - minutes * MINUTE)


def evaluate(
    queues: list[QueueSnapshot] | None = None,
    advisors: list[AdvisorSnapshot] | None = None,
    failed: int = 0,
    open_now: bool = True,
) -> list[Alert]:
    return evaluate_alerts(queues or [], advisors or [], failed, NOW, open_now)


def kinds(alerts: list[Alert]) -> list[AlertKind]:
    return [a.kind for a in alerts]


def test_a_quiet_branch_has_no_alerts() -> None:
    assert evaluate([queue(waiting=3, oldest_minutes=10)], [advisor(status="AVAILABLE")]) == []


# --- queue critical ----------------------------------------------------------


@pytest.mark.parametrize(("waiting", "critical"), [(14, False), (15, False), (16, True)])
def test_queue_is_critical_above_15_waiting(waiting: int, critical: bool) -> None:
    alerts = evaluate([queue(waiting=waiting, oldest_minutes=5)])
    assert (AlertKind.QUEUE_CRITICAL in kinds(alerts)) is critical


def test_queue_critical_alert_content() -> None:
    [alert] = evaluate([queue("PERSONAL_BANKER", waiting=16, oldest_minutes=5)])
    assert alert.kind is AlertKind.QUEUE_CRITICAL
    assert alert.severity is Severity.HIGH
    assert alert.queue == "PERSONAL_BANKER"
    assert alert.value == 16
    assert alert.message == "Cola PERSONAL_BANKER crítica: 16 turnos en espera (máximo 15)."


def test_custom_critical_threshold() -> None:
    thresholds = AlertThresholds(queue_critical_waiting=5)
    alerts = evaluate_alerts([queue(waiting=6, oldest_minutes=1)], [], 0, NOW, True, thresholds)
    assert kinds(alerts) == [AlertKind.QUEUE_CRITICAL]


# --- excessive wait ----------------------------------------------------------


@pytest.mark.parametrize(("minutes", "excessive"), [(59, False), (60, False), (60.01, True)])
def test_excessive_wait_above_60_minutes(minutes: float, excessive: bool) -> None:
    alerts = evaluate([queue(waiting=2, oldest_minutes=minutes, oldest_number="C07")])
    assert (AlertKind.EXCESSIVE_WAIT in kinds(alerts)) is excessive


def test_one_excessive_wait_alert_per_queue_naming_the_oldest_ticket() -> None:
    alerts = evaluate(
        [
            queue("CAJA", waiting=4, oldest_minutes=75, oldest_number="C03"),
            queue("GERENCIA", waiting=1, oldest_minutes=61.5, oldest_number="G01"),
        ]
    )
    assert [(a.kind, a.queue, a.ticket_number) for a in alerts] == [
        (AlertKind.EXCESSIVE_WAIT, "CAJA", "C03"),
        (AlertKind.EXCESSIVE_WAIT, "GERENCIA", "G01"),
    ]
    assert alerts[0].severity is Severity.HIGH
    assert alerts[0].value == 75 * 60
    assert alerts[0].message == "Espera excesiva en CAJA: el turno C03 lleva 75 min."
    assert alerts[1].message == "Espera excesiva en GERENCIA: el turno G01 lleva 61 min."


def test_excessive_wait_without_a_known_number() -> None:
    [alert] = evaluate([queue(waiting=1, oldest_minutes=90)])
    assert alert.ticket_number is None
    assert "el turno más antiguo lleva 90 min" in alert.message


def test_an_empty_queue_has_no_wait_alerts() -> None:
    assert evaluate([queue(waiting=0, oldest_minutes=None, serving=0)]) == []


# --- advisor inactive --------------------------------------------------------


@pytest.mark.parametrize(("minutes", "inactive"), [(29, False), (30, False), (31, True)])
def test_advisor_offline_more_than_30_minutes(minutes: float, inactive: bool) -> None:
    alerts = evaluate(advisors=[advisor(minutes=minutes)])
    assert (AlertKind.ADVISOR_INACTIVE in kinds(alerts)) is inactive


def test_advisor_inactive_alert_content() -> None:
    [alert] = evaluate(advisors=[advisor(7, minutes=45, name="Rosa Pérez")])
    assert alert.kind is AlertKind.ADVISOR_INACTIVE
    assert alert.severity is Severity.MEDIUM
    assert alert.advisor_id == 7
    assert alert.queue is None
    assert alert.value == 45 * 60
    assert alert.message == "Ejecutivo Rosa Pérez: 45 min sin conexión en horario de atención."


def test_offline_advisors_are_not_reported_outside_opening_hours() -> None:
    assert evaluate(advisors=[advisor(minutes=600)], open_now=False) == []


@pytest.mark.parametrize("status", ["AVAILABLE", "BUSY", "BREAK"])
def test_only_offline_advisors_count_as_inactive(status: str) -> None:
    assert evaluate(advisors=[advisor(status=status, minutes=600)]) == []


# --- notifications failing ---------------------------------------------------


def test_failed_notifications_raise_a_high_alert() -> None:
    assert evaluate(failed=0) == []
    [one] = evaluate(failed=1)
    assert one.kind is AlertKind.NOTIFICATIONS_FAILING
    assert one.severity is Severity.HIGH
    assert one.value == 1
    assert one.message.startswith("1 notificación fallida de Telegram")
    [many] = evaluate(failed=12)
    assert many.message.startswith("12 notificaciones fallidas de Telegram")


# --- queue unattended --------------------------------------------------------


def test_a_queue_with_waiting_tickets_and_nobody_to_serve_them() -> None:
    [alert] = evaluate([queue("EMPRESAS", waiting=1, oldest_minutes=2, serving=0)])
    assert alert.kind is AlertKind.QUEUE_UNATTENDED
    assert alert.severity is Severity.HIGH
    assert alert.queue == "EMPRESAS"
    assert alert.message == (
        "Cola EMPRESAS sin atención: 1 turno en espera y ningún ejecutivo disponible "
        "para atenderla."
    )


def test_a_served_queue_is_not_unattended() -> None:
    assert evaluate([queue(waiting=5, oldest_minutes=2, serving=1)]) == []


# --- order -------------------------------------------------------------------


def every_alert_inputs() -> tuple[list[QueueSnapshot], list[AdvisorSnapshot]]:
    queues = [
        queue("GERENCIA", waiting=20, oldest_minutes=70, oldest_number="G02", serving=0),
        queue("CAJA", waiting=16, oldest_minutes=80, oldest_number="C01", serving=0),
        queue("EMPRESAS", waiting=1, oldest_minutes=5),
    ]
    advisors = [advisor(9, minutes=40), advisor(3, minutes=50), advisor(5, "AVAILABLE", 90)]
    return queues, advisors


def test_alerts_are_ordered_by_severity_kind_and_subject() -> None:
    queues, advisors = every_alert_inputs()
    alerts = evaluate(queues, advisors, failed=2)
    assert [(a.severity, a.kind, a.queue or a.advisor_id) for a in alerts] == [
        (Severity.HIGH, AlertKind.QUEUE_CRITICAL, "CAJA"),
        (Severity.HIGH, AlertKind.QUEUE_CRITICAL, "GERENCIA"),
        (Severity.HIGH, AlertKind.EXCESSIVE_WAIT, "CAJA"),
        (Severity.HIGH, AlertKind.EXCESSIVE_WAIT, "GERENCIA"),
        (Severity.HIGH, AlertKind.NOTIFICATIONS_FAILING, None),
        (Severity.HIGH, AlertKind.QUEUE_UNATTENDED, "CAJA"),
        (Severity.HIGH, AlertKind.QUEUE_UNATTENDED, "GERENCIA"),
        (Severity.MEDIUM, AlertKind.ADVISOR_INACTIVE, 3),
        (Severity.MEDIUM, AlertKind.ADVISOR_INACTIVE, 9),
    ]


@given(st.randoms(use_true_random=False))
def test_order_does_not_depend_on_input_order(rng: random.Random) -> None:
    queues, advisors = every_alert_inputs()
    expected = evaluate(queues, advisors, failed=2)
    rng.shuffle(queues)
    rng.shuffle(advisors)
    assert evaluate(queues, advisors, failed=2) == expected


# --- validation --------------------------------------------------------------


def test_invalid_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        evaluate_alerts([], [], 0, NOW.replace(tzinfo=None), True)
    with pytest.raises(ValueError, match="failed_notifications"):
        evaluate(failed=-1)
    with pytest.raises(ValueError, match="negative"):
        queue(waiting=-1)
    with pytest.raises(ValueError, match="oldest_wait_seconds"):
        QueueSnapshot("CAJA", 1, math.nan, None, 1)
    with pytest.raises(ValueError, match="status_since must be timezone-aware"):
        AdvisorSnapshot(1, "Ana", "OFFLINE", NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="excessive_wait_seconds"):
        AlertThresholds(excessive_wait_seconds=-1)


def test_alerts_are_immutable() -> None:
    [alert] = evaluate(failed=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        alert.message = "x"  # type: ignore[misc]


# --- opening hours -----------------------------------------------------------

NINE, TWO_PM = time(9, 0), time(14, 0)


@pytest.mark.parametrize(
    ("local", "is_open"),
    [
        (time(8, 59, 59), False),
        (time(9, 0), True),
        (time(11, 30), True),
        (time(13, 59, 59, 999999), True),
        (time(14, 0), False),
        (time(23, 0), False),
    ],
)
def test_open_from_opening_time_until_just_before_closing(local: time, is_open: bool) -> None:
    now = datetime.combine(NOW.date(), local, tzinfo=ZoneInfo(SANTIAGO))
    assert within_opening_hours(now, SANTIAGO, NINE, TWO_PM) is is_open


def test_the_same_instant_is_judged_on_each_branch_clock() -> None:
    # 2025-01-15 13:30 UTC: 10:30 in Santiago (summer, -03), 14:30 in Madrid,
    # 22:30 in Tokyo, 08:30 in New York.
    now = datetime(2025, 1, 15, 13, 30, tzinfo=UTC)
    assert within_opening_hours(now, SANTIAGO, NINE, TWO_PM)
    assert not within_opening_hours(now, "Europe/Madrid", NINE, TWO_PM)
    assert not within_opening_hours(now, "Asia/Tokyo", NINE, TWO_PM)
    assert not within_opening_hours(now, "America/New_York", NINE, TWO_PM)
    assert within_opening_hours(now, "America/New_York", time(8, 30), TWO_PM)


def test_daylight_saving_time_moves_opening_in_utc() -> None:
    # Santiago is -03 in January and -04 in July: 9:00 local is 12:00 or 13:00 UTC.
    assert within_opening_hours(datetime(2025, 1, 15, 12, 0, tzinfo=UTC), SANTIAGO, NINE, TWO_PM)
    assert not within_opening_hours(
        datetime(2025, 7, 15, 12, 0, tzinfo=UTC), SANTIAGO, NINE, TWO_PM
    )
    assert within_opening_hours(datetime(2025, 7, 15, 13, 0, tzinfo=UTC), SANTIAGO, NINE, TWO_PM)


def test_hours_past_midnight_and_empty_hours() -> None:
    late, early = time(22, 0), time(2, 0)

    def at(hour: int) -> datetime:
        return datetime(2025, 3, 3, hour, tzinfo=UTC)

    assert within_opening_hours(at(23), "UTC", late, early)
    assert within_opening_hours(at(1), "UTC", late, early)
    assert not within_opening_hours(at(12), "UTC", late, early)
    assert not within_opening_hours(at(9), "UTC", NINE, NINE)


def test_opening_hours_validation() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        within_opening_hours(datetime(2025, 3, 3, 10), SANTIAGO, NINE, TWO_PM)
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        within_opening_hours(NOW, "Mars/Olympus_Mons", NINE, TWO_PM)
    with pytest.raises(ValueError, match="without a time zone"):
        within_opening_hours(NOW, SANTIAGO, time(9, tzinfo=UTC), TWO_PM)
