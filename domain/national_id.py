"""Customer identifiers and phone numbers: validation, canonical form, masking.

The canonical form is what uniqueness ("one active ticket per national id per
branch") is checked on, so every accepted spelling of the same RUT must map to
one value. Masking exists so that logs and public responses never carry a full
identifier. Error messages never repeat the input, since it is personal data.
"""

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "NationalId",
    "mask_national_id",
    "mask_phone",
    "normalize_phone",
    "parse_national_id",
    "rut_check_digit",
]

# Only ASCII digits: `\d` would also accept digits from other scripts.
_PLAIN_ID = re.compile(r"[0-9]{8,12}")
# A RUT body of 7 or 8 digits, either bare or grouped in thousands with dots,
# then an optional dash and the check digit.
_RUT = re.compile(r"(?P<body>[0-9]{7,8}|[0-9]{1,2}\.[0-9]{3}\.[0-9]{3})-?(?P<check>[0-9Kk])")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_PHONE = re.compile(r"\+?[0-9]{8,15}")

_FORMAT_ERROR = (
    "national id must be 8 to 12 digits or a RUT with a valid check digit (e.g. 12.345.678-5)"
)
_MASK = "*"
_VISIBLE_ID_DIGITS = 3
_VISIBLE_PHONE_DIGITS = 4


@dataclass(frozen=True)
class NationalId:
    """A validated customer identifier.

    `value` is canonical: the digits of a plain id, or a RUT as body, dash and
    upper-case check digit without dots or leading zeros (``12345678-5``).
    """

    value: str
    kind: Literal["RUT", "DIGITS"]


def rut_check_digit(body: str) -> str:
    """Return the mod-11 check digit of a RUT body ('0'-'9' or 'K').

    Digits are weighted 2, 3, 4, 5, 6, 7, 2, 3, ... from the right; the check
    digit is 11 minus the weighted sum modulo 11, where 11 is written '0' and
    10 is written 'K'.
    """
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError("RUT body must be one or more digits 0-9")
    total = sum(int(digit) * (2 + index % 6) for index, digit in enumerate(reversed(body)))
    remainder = 11 - total % 11
    if remainder == 11:
        return "0"
    if remainder == 10:
        return "K"
    return str(remainder)


def parse_national_id(raw: str) -> NationalId:
    """Validate what a customer typed and return its canonical form.

    A string of 8 to 12 digits alone is a plain id. Anything with a dash, dots
    or a K is read as a RUT (7- or 8-digit body) and must carry the right
    check digit. So ``12345678`` is a plain id while ``1234567-4`` is a RUT.
    """
    text = raw.strip()
    if _PLAIN_ID.fullmatch(text):
        return NationalId(value=text, kind="DIGITS")
    match = _RUT.fullmatch(text)
    if match is None:
        raise ValueError(_FORMAT_ERROR)
    body = match["body"].replace(".", "").lstrip("0")
    if len(body) < 7:
        raise ValueError(_FORMAT_ERROR)
    check = match["check"].upper()
    if rut_check_digit(body) != check:
        raise ValueError("RUT check digit is wrong")
    return NationalId(value=f"{body}-{check}", kind="RUT")


def mask_national_id(value: str) -> str:
    """Hide a national id except its last three digits (and a RUT's check digit).

    ``12345678-5`` becomes ``*****678-5`` and ``99999999`` becomes
    ``*****999``. Any accepted spelling masks like its canonical form; a value
    that is not a valid id is masked entirely, as it cannot be trusted to be
    safe to show.
    """
    try:
        national_id = parse_national_id(value)
    except ValueError:
        return _MASK * len(value.strip())
    if national_id.kind == "RUT":
        body, check = national_id.value.split("-")
        return f"{_keep_last(body, _VISIBLE_ID_DIGITS)}-{check}"
    return _keep_last(national_id.value, _VISIBLE_ID_DIGITS)


def normalize_phone(raw: str) -> str:
    """Return a phone number as digits with an optional leading ``+``.

    Spaces, dashes and parentheses are dropped; 8 to 15 digits remain, the
    E.164 maximum being 15.
    """
    compact = _PHONE_SEPARATORS.sub("", raw)
    if _PHONE.fullmatch(compact) is None:
        raise ValueError("phone number must have 8 to 15 digits, optionally starting with '+'")
    return compact


def mask_phone(raw: str) -> str:
    """Hide a phone number except a leading ``+`` and its last four digits.

    ``+56912345678`` becomes ``+*******5678``. Input that is not a valid phone
    number is masked entirely, since too few digits would leave too much of it
    visible.
    """
    try:
        phone = normalize_phone(raw)
    except ValueError:
        return _MASK * len(raw.strip())
    if phone.startswith("+"):
        return "+" + _keep_last(phone[1:], _VISIBLE_PHONE_DIGITS)
    return _keep_last(phone, _VISIBLE_PHONE_DIGITS)


def _keep_last(text: str, visible: int) -> str:
    return _MASK * (len(text) - visible) + text[-visible:]
