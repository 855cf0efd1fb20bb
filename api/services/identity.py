"""Pseudonymises national ids: stored and compared only as a keyed hash, shown masked."""

from __future__ import annotations

import hashlib
import hmac

from domain.national_id import NationalId


def national_id_hash(national_id: NationalId, key: str) -> str:
    """HMAC-SHA256: equal ids match across requests, the database never holds the id."""
    return hmac.new(key.encode(), national_id.value.encode(), hashlib.sha256).hexdigest()
