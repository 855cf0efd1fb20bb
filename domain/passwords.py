"""Argon2 password hashes (pwdlib's recommended parameters).

CPU only, no I/O, so it sits in `domain` where both the API (`api.auth.users`)
and the demo seed (`devstack.seed`) import it. Hashing and verifying cost tens
of milliseconds of CPU on purpose; async callers run them in a thread.
"""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()


def hash_password(password: str) -> str:
    """A salted argon2id hash, safe to store in `app_user.password_hash`."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check `password` against a stored hash in constant time.

    With no hash (the user does not exist) the password is still verified,
    against a dummy hash, so the answer takes as long as for a real user and
    timing does not reveal which usernames exist. A malformed hash is a mismatch.
    """
    if password_hash is None:
        _hasher.verify(password, _dummy_hash())
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # an unknown or corrupt hash never authenticates
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash("ticketero-dummy-password-for-timing")
