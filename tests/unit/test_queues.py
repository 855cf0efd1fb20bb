"""Queue names, default settings and parsing of user-supplied queue names."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.queues import DEFAULT_QUEUE_SETTINGS, QueueName, QueueSettings, parse_queue

ALL_QUEUES = list(QueueName)


def make_settings(**overrides: object) -> QueueSettings:
    values: dict[str, object] = {
        "prefix": "C",
        "avg_service_seconds": 300,
        "priority": 1,
        "notify_threshold": 3,
        "target_wait_minutes": 15,
        "no_show_seconds": 300,
    }
    values.update(overrides)
    return QueueSettings(**values)  # type: ignore[arg-type]


def test_queue_names_are_their_own_string_values() -> None:
    assert [q.value for q in QueueName] == ["CAJA", "PERSONAL_BANKER", "EMPRESAS", "GERENCIA"]
    assert QueueName.CAJA == "CAJA"
    assert f"{QueueName.EMPRESAS}" == "EMPRESAS"


def test_every_queue_has_default_settings() -> None:
    assert set(DEFAULT_QUEUE_SETTINGS) == set(QueueName)


@pytest.mark.parametrize(
    ("queue", "prefix", "service_minutes", "priority"),
    [
        (QueueName.CAJA, "C", 5, 1),
        (QueueName.PERSONAL_BANKER, "P", 15, 2),
        (QueueName.EMPRESAS, "E", 20, 3),
        (QueueName.GERENCIA, "G", 30, 4),
    ],
)
def test_default_settings_match_the_reference(
    queue: QueueName, prefix: str, service_minutes: int, priority: int
) -> None:
    settings = DEFAULT_QUEUE_SETTINGS[queue]
    assert settings.prefix == prefix
    assert settings.avg_service_seconds == service_minutes * 60
    assert settings.priority == priority
    assert settings.notify_threshold == 3
    assert settings.no_show_seconds == 300


def test_gerencia_has_the_highest_priority_and_priorities_are_distinct() -> None:
    priorities = {q: s.priority for q, s in DEFAULT_QUEUE_SETTINGS.items()}
    assert max(priorities, key=priorities.__getitem__) is QueueName.GERENCIA
    assert min(priorities, key=priorities.__getitem__) is QueueName.CAJA
    assert len(set(priorities.values())) == len(priorities)


def test_prefixes_are_distinct() -> None:
    prefixes = [s.prefix for s in DEFAULT_QUEUE_SETTINGS.values()]
    assert len(set(prefixes)) == len(prefixes)


@pytest.mark.parametrize("queue", ALL_QUEUES)
def test_target_wait_is_longer_than_a_service_and_below_the_excessive_wait_alert(
    queue: QueueName,
) -> None:
    settings = DEFAULT_QUEUE_SETTINGS[queue]
    assert settings.avg_service_seconds < settings.target_wait_minutes * 60
    assert settings.target_wait_minutes < 60


def test_default_settings_cannot_be_modified() -> None:
    with pytest.raises(TypeError):
        DEFAULT_QUEUE_SETTINGS[QueueName.CAJA] = make_settings()  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_QUEUE_SETTINGS[QueueName.CAJA].priority = 9  # type: ignore[misc]


@pytest.mark.parametrize("prefix", ["", "c", "C1", "CAJA", " C", "Ç"])
def test_settings_reject_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        make_settings(prefix=prefix)


@pytest.mark.parametrize(
    "field",
    [
        "avg_service_seconds",
        "priority",
        "notify_threshold",
        "target_wait_minutes",
        "no_show_seconds",
    ],
)
@pytest.mark.parametrize("value", [0, -1])
def test_settings_reject_non_positive_numbers(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        make_settings(**{field: value})


def test_settings_accept_multi_letter_prefixes() -> None:
    assert make_settings(prefix="CA").prefix == "CA"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CAJA", QueueName.CAJA),
        ("caja", QueueName.CAJA),
        ("  Caja\n", QueueName.CAJA),
        ("PERSONAL_BANKER", QueueName.PERSONAL_BANKER),
        ("personal banker", QueueName.PERSONAL_BANKER),
        ("personal-banker", QueueName.PERSONAL_BANKER),
        ("empresas", QueueName.EMPRESAS),
        ("GERENCIA", QueueName.GERENCIA),
    ],
)
def test_parse_queue_accepts_names_in_any_case(raw: str, expected: QueueName) -> None:
    assert parse_queue(raw) is expected


@pytest.mark.parametrize("raw", ["", " ", "CASHIER", "C", "CAJA1", "PERSONALBANKER", "caja caja"])
def test_parse_queue_rejects_unknown_names_listing_the_allowed_ones(raw: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_queue(raw)
    message = str(info.value)
    for queue in QueueName:
        assert queue.value in message


def test_parse_queue_error_does_not_echo_very_long_input() -> None:
    with pytest.raises(ValueError) as info:
        parse_queue("X" * 10_000)
    assert len(str(info.value)) < 200


@given(st.sampled_from(ALL_QUEUES), st.lists(st.booleans(), min_size=20, max_size=20))
def test_parse_queue_ignores_letter_case(queue: QueueName, upper: list[bool]) -> None:
    mixed = "".join(c.upper() if u else c.lower() for c, u in zip(queue.value, upper, strict=False))
    assert parse_queue(mixed) is queue


@given(st.text(max_size=30))
def test_parse_queue_either_parses_or_raises_value_error(raw: str) -> None:
    try:
        result = parse_queue(raw)
    except ValueError:
        return
    assert result in QueueName


def test_parse_queue_rejects_non_ascii_look_alikes() -> None:
    # "ı".upper() is "I"; only the real spelling names a queue.
    with pytest.raises(ValueError):
        parse_queue("gerencıa")
