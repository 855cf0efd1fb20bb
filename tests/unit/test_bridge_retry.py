"""Which failures the bridge waits out (and requeues) and which it gives up on."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from bridge.retry import is_transient


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("sqlstate", ["53300", "08006", "08001", "57P01", "57P03"])
def test_a_database_away_or_full_is_waited_out(sqlstate: str) -> None:
    assert is_transient(DBAPIError("SELECT 1", None, _PgError(sqlstate)))


@pytest.mark.parametrize("sqlstate", ["23505", "22P02", "42P01", ""])
def test_an_answer_about_the_data_is_not(sqlstate: str) -> None:
    assert not is_transient(DBAPIError("SELECT 1", None, _PgError(sqlstate)))
    assert not is_transient(IntegrityError("INSERT", None, _PgError(sqlstate)))


def test_network_errors_are_waited_out() -> None:
    assert is_transient(ConnectionRefusedError()) and is_transient(TimeoutError())
    assert not is_transient(ValueError("bad payload"))
