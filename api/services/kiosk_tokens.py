"""Kiosk tokens recently found valid, so a kiosk's burst of tickets does not query the
database for its token on every request.

A kiosk token is a revocable credential, so the cache is bounded in time and size:

- An entry lives `TTL_SECONDS` (5 s). Revoking a kiosk through this process forgets
  every entry at once (`forget`); another API replica stops accepting the revoked token
  at most `TTL_SECONDS` after the revocation committed (plus one lookup in flight). That
  bound is the documented revocation delay of kiosk tokens.
- Only valid tokens are kept (an unknown or revoked token is looked up every time, as
  before), so guessing tokens cannot fill the cache; at most `MAX_ENTRIES` are kept.
- A lookup that started before a `forget` does not store its (possibly stale) answer,
  and requests after the `forget` do not wait for it either.
- Keys are the tokens' SHA-256 (as the database keeps them), never the tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from api.services.short_cache import ShortCache
from db.kiosks import KioskRow

#: How long a token found valid is believed without asking the database again.
TTL_SECONDS = 5.0
MAX_ENTRIES = 1024

_valid: ShortCache[str, KioskRow] = ShortCache(TTL_SECONDS, MAX_ENTRIES, keep_none=False)


async def kiosk_of(hashed: str, fetch: Callable[[], Awaitable[KioskRow | None]]) -> KioskRow | None:
    """The active kiosk of this token hash: believed for `TTL_SECONDS`, else `fetch()`ed
    (one lookup per token in flight)."""
    return await _valid.get(hashed, fetch)


def forget() -> None:
    """Drop every entry (a kiosk was revoked), and the answers of lookups in flight."""
    _valid.forget()
