import uuid

from hypothesis import given
from hypothesis import strategies as st

from domain.deeplink import MAX_PAYLOAD, decode_start_payload, deep_link, encode_start_payload

KEY = b"k" * 32


@given(st.uuids())
def test_round_trip_and_alphabet(reference: uuid.UUID) -> None:
    payload = encode_start_payload(reference, KEY)
    assert len(payload) <= MAX_PAYLOAD
    assert all(c.isalnum() or c in "_-" for c in payload)
    assert decode_start_payload(payload, KEY) == reference


def test_wrong_key_or_tampering_is_refused() -> None:
    reference = uuid.uuid4()
    payload = encode_start_payload(reference, KEY)
    assert decode_start_payload(payload, b"other") is None
    flipped = ("A" if payload[0] != "A" else "B") + payload[1:]
    assert decode_start_payload(flipped, KEY) is None
    assert decode_start_payload(payload[:-1], KEY) is None
    assert decode_start_payload("", KEY) is None
    assert decode_start_payload("x" * 80, KEY) is None


def test_deep_link_shape() -> None:
    assert deep_link("TicketeroBot", "abc") == "https://t.me/TicketeroBot?start=abc"
