"""Ticket references: 128-bit secrets, the capability of whoever holds the ticket.

A reference grants reading, following (deep link) and cancelling its ticket, so
it must not be guessable or computable. Without an Idempotency-Key it is 16
random bytes; with one it is an HMAC-SHA256 of the key under a server secret
(`REFERENCE_KEY`), so a retried request names the same ticket while nobody
without the secret can derive a reference from a key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

#: Separates this use of the secret from any other HMAC made with it.
_CONTEXT = b"ticketero/ticket-reference/v1\x00"


def random_reference() -> uuid.UUID:
    """128 random bits, shown in UUID form."""
    return uuid.UUID(bytes=secrets.token_bytes(16))


def keyed_reference(secret: str, idempotency_key: str) -> uuid.UUID:
    """The reference of the ticket an Idempotency-Key creates: stable, unguessable."""
    digest = hmac.new(secret.encode(), _CONTEXT + idempotency_key.encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16])


def reference_for(idempotency_key: str | None, secret: str) -> uuid.UUID:
    """A retried request with the same key names the same ticket (and workflow)."""
    if idempotency_key is None:
        return random_reference()
    return keyed_reference(secret, idempotency_key)
