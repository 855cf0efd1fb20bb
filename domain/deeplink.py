"""Telegram deep-link payloads: a ticket reference plus a short signature.

`https://t.me/<bot>?start=<payload>` allows at most 64 characters of
`A-Za-z0-9_-`. The payload is base64url(reference) + "-" + base64url(HMAC)[:11]:
33 characters, unguessable, and verifiable without a database lookup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid

_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{22}-[A-Za-z0-9_-]{11}$")
MAX_PAYLOAD = 64


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _signature(reference: uuid.UUID, key: bytes) -> str:
    return _b64(hmac.new(key, b"start:" + reference.bytes, hashlib.sha256).digest())[:11]


def encode_start_payload(reference: uuid.UUID, key: bytes) -> str:
    return f"{_b64(reference.bytes)}-{_signature(reference, key)}"


def decode_start_payload(payload: str, key: bytes) -> uuid.UUID | None:
    """The reference if the payload is well formed and signed with `key`, else None."""
    if len(payload) > MAX_PAYLOAD or not _PAYLOAD.match(payload):
        return None
    body, signature = payload[:22], payload[23:]
    try:
        reference = uuid.UUID(bytes=base64.urlsafe_b64decode(body + "=="))
    except ValueError:
        return None
    if not hmac.compare_digest(signature, _signature(reference, key)):
        return None
    return reference


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"
