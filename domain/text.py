"""Free text people type (branch names, advisor names, labels, reasons): one rule for all.

Such text reaches other people's screens and customers' Telegram messages, so it is
refused when it carries control characters (which break or hide text, or forge lines
in logs) or bidirectional overrides (which make text read differently from what it is,
e.g. a name that displays reversed). Runs of whitespace collapse to one space; the
length is counted after that. Pure: no I/O, usable from any layer.
"""

from __future__ import annotations

import unicodedata

__all__ = ["BIDI_CONTROLS", "clean_text", "text_problem"]

#: Unicode bidirectional formatting characters (embeddings, overrides, isolates, marks).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be shown to people as typed, or None when it can."""
    for char in value:
        if char in BIDI_CONTROLS:
            return "must not contain bidirectional control characters"
        if not char.isprintable() and not char.isspace():
            kind = unicodedata.category(char)
            if kind == "Cc":
                return "must not contain control characters"
            return "must not contain invisible or unassigned characters"
        if char.isspace() and unicodedata.category(char) == "Cc" and char not in " \t\n\r":
            return "must not contain control characters"
    return None


def clean_text(value: str, *, max_length: int, min_length: int = 1) -> str:
    """`value` with whitespace collapsed, or ValueError naming the problem.

    Tabs and newlines count as whitespace (they collapse to a space); every other
    control character, a bidirectional override or an unassigned code point is refused.
    """
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    collapsed = " ".join(value.split())
    if not collapsed and min_length > 0:
        raise ValueError("must not be blank")
    if not min_length <= len(collapsed) <= max_length:
        raise ValueError(f"must be {min_length} to {max_length} characters long")
    return collapsed
