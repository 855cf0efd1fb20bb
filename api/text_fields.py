"""Free-text fields of request bodies, validated by the one rule in `domain.text`."""

from __future__ import annotations

from pydantic import AfterValidator

from domain.text import clean_text


def free_text(max_length: int, *, min_length: int = 1) -> AfterValidator:
    """Collapse whitespace; refuse control or bidi characters and lengths out of range
    (a 422 naming the field, from the app's validation handler)."""

    def check(value: str) -> str:
        return clean_text(value, max_length=max_length, min_length=min_length)

    return AfterValidator(check)
