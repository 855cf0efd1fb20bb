"""Kiosk tokens recently found valid, so a kiosk's burst of tickets does not query the
database for its token on every request.

A kiosk token is a revocable credential, so the cache is bounded in time and size:

- An entry lives `TTL_SECONDS` (3 s). Revoking a kiosk through this process forgets
  every entry at once (`forget`); another API replica stops accepting the revoked token
  at most `TTL_SECONDS` after the revocation committed. That bound is the documented
  revocation delay of kiosk tokens.
- Only valid tokens are kept (an unknown or revoked token is looked up every time, as
  before), so guessing tokens cannot fill the cache; at most `MAX_ENTRIES` are kept.
- A lookup that started before a `forget` does not store its (possibly stale) answer.
- Keys are the tokens' SHA-256 (as the database keeps them), never the tokens.
"""

from __future__ import annotations

import time

from db.kiosks import KioskRow

#: How long a token found valid is believed without asking the database again.
TTL_SECONDS = 3.0
MAX_ENTRIES = 1024

_entries: dict[str, tuple[float, KioskRow]] = {}
_generation = 0


def generation() -> int:
    """Take this before a lookup and hand it to `remember` (see `forget`)."""
    return _generation


def cached(hashed: str) -> KioskRow | None:
    """The kiosk of this token hash, if found valid less than `TTL_SECONDS` ago."""
    entry = _entries.get(hashed)
    if entry is None:
        return None
    if entry[0] <= time.monotonic():
        _entries.pop(hashed, None)
        return None
    return entry[1]


def remember(hashed: str, kiosk: KioskRow, since: int) -> None:
    """Keep a valid kiosk, unless a `forget` happened since generation `since`."""
    if since != _generation:
        return
    now = time.monotonic()
    if len(_entries) >= MAX_ENTRIES:
        for key in [k for k, (expires, _) in _entries.items() if expires <= now]:
            del _entries[key]
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
    _entries[hashed] = (now + TTL_SECONDS, kiosk)


def forget() -> None:
    """Drop every entry (a kiosk was revoked), and the answers of lookups in flight."""
    global _generation
    _generation += 1
    _entries.clear()
