"""Argon2 hashing and verification (no database)."""

from __future__ import annotations

from domain.passwords import hash_password, verify_password


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first, second = hash_password("s3cret!"), hash_password("s3cret!")
    assert first.startswith("$argon2id$")
    assert first != second, "every hash has its own salt"
    assert "s3cret!" not in first
    assert verify_password("s3cret!", first)
    assert verify_password("s3cret!", second)


def test_wrong_password_does_not_verify() -> None:
    stored = hash_password("s3cret!")
    assert not verify_password("S3cret!", stored)
    assert not verify_password("", stored)


def test_missing_user_verifies_against_a_dummy_and_fails() -> None:
    assert not verify_password("anything", None)
    assert not verify_password("ticketero-dummy-password-for-timing", None)


def test_malformed_hash_is_a_mismatch() -> None:
    assert not verify_password("s3cret!", "not-a-hash")
    assert not verify_password("s3cret!", "")
