"""Units behind the public-surface rules: SSE slots and reference derivation."""

from __future__ import annotations

import pytest

from api.errors import ApiError
from api.sse import SseSlots
from domain.references import keyed_reference, reference_for


def test_references_are_128_bit_secrets() -> None:
    assert keyed_reference("secret-a", "k") == keyed_reference("secret-a", "k")
    assert keyed_reference("secret-a", "k") != keyed_reference("secret-b", "k")
    assert keyed_reference("secret-a", "k") != keyed_reference("secret-a", "k2")
    randoms = {reference_for(None, "secret-a").int for _ in range(2000)}
    assert len(randoms) == 2000
    # All 128 bits vary: no fixed version/variant bits (uuid4 keeps 6 of them constant).
    ones = 0
    for value in randoms:
        ones |= value
    assert ones == (1 << 128) - 1


def test_slots_count_per_client_and_in_total() -> None:
    slots = SseSlots(per_client=2, total=3)
    a1, a2 = slots.acquire("a"), slots.acquire("a")
    with pytest.raises(ApiError) as per_client:
        slots.acquire("a")
    assert per_client.value.status == 429 and per_client.value.headers
    b1 = slots.acquire("b")
    with pytest.raises(ApiError) as total:
        slots.acquire("c")
    assert total.value.status == 429 and "Retry-After" in (total.value.headers or {})
    a1()
    a1()  # releasing twice gives back one slot only
    assert slots.open == 2
    slots.acquire("c")
    with pytest.raises(ApiError):
        slots.acquire("d")
    a2()
    b1()
    assert slots.open == 1
