"""RUT and plain national ids, phone numbers, and how both are masked.

Long because each id format and mask has its table of cases; splitting would scatter them.
"""

import dataclasses
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.national_id import (
    NationalId,
    mask_national_id,
    mask_phone,
    normalize_phone,
    parse_national_id,
    rut_check_digit,
)

CHECK_DIGITS = "0123456789K"
rut_bodies = st.integers(min_value=1_000_000, max_value=99_999_999).map(str)


def dotted(body: str) -> str:
    return f"{int(body):,}".replace(",", ".")


def revealed(masked: str) -> str:
    """The characters of a masked value that are not mask or separator."""
    return re.sub(r"[*\-+]", "", masked)


# --- check digit -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("12345678", "5"),
        ("11111111", "1"),
        ("7654321", "6"),
        ("1234567", "4"),
        ("10000013", "K"),
        ("10000027", "K"),
        ("1000005", "K"),
        ("10000004", "0"),
        ("10000018", "0"),
        ("1", "9"),
    ],
)
def test_rut_check_digit_of_known_bodies(body: str, check: str) -> None:
    assert rut_check_digit(body) == check


@pytest.mark.parametrize("body", ["", "12a", "12.345", "-1", " 123", "١٢٣"])
def test_rut_check_digit_rejects_non_digits(body: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        rut_check_digit(body)


@given(rut_bodies)
def test_rut_check_digit_is_one_of_the_eleven_symbols(body: str) -> None:
    assert rut_check_digit(body) in CHECK_DIGITS


# --- parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("12.345.678-5", "12345678-5"),
        ("12345678-5", "12345678-5"),
        ("  12.345.678-5  ", "12345678-5"),
        ("11.111.111-1", "11111111-1"),
        ("7.654.321-6", "7654321-6"),
        ("7654321-6", "7654321-6"),
        ("10.000.013-K", "10000013-K"),
        ("10000013-k", "10000013-K"),
        ("10000013K", "10000013-K"),
        ("10000013k", "10000013-K"),
        ("1000005K", "1000005-K"),
        ("1.000.005-k", "1000005-K"),
        ("12.345.6785", "12345678-5"),
        ("01234567-4", "1234567-4"),
        ("01.234.567-4", "1234567-4"),
    ],
)
def test_parse_rut_spellings_to_the_canonical_form(raw: str, canonical: str) -> None:
    assert parse_national_id(raw) == NationalId(value=canonical, kind="RUT")


@pytest.mark.parametrize(
    "raw", ["99999999", "12345678", "123456789", "123456785", "000000000000", " 99999999 "]
)
def test_parse_plain_ids_of_8_to_12_digits(raw: str) -> None:
    assert parse_national_id(raw) == NationalId(value=raw.strip(), kind="DIGITS")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "1234567",  # 7 digits: too short for a plain id, no check digit
        "1234567890123",  # 13 digits
        "123456-0",  # 6-digit RUT body
        "123456789-0",  # 9-digit RUT body
        "00123456-0",  # 6 digits once the zeros are gone
        "12 345 678-5",
        "12,345,678-5",
        "1.2345.678-5",
        "12.345678-5",
        "12345.678-5",
        "12.345.678--5",
        "12.345.678-",
        "-5",
        "12345678-X",
        "12345678-55",
        "ABCDEFGH",
        "K",
        "１２３４５６７８",  # full-width digits
        "١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "12345678\x00",
    ],
)
def test_parse_rejects_malformed_ids(raw: str) -> None:
    with pytest.raises(ValueError, match="8 to 12 digits or a RUT"):
        parse_national_id(raw)


@pytest.mark.parametrize("raw", ["12.345.678-4", "12345678-K", "11.111.111-2", "7654321-0"])
def test_parse_rejects_a_wrong_check_digit(raw: str) -> None:
    with pytest.raises(ValueError, match="RUT check digit is wrong"):
        parse_national_id(raw)


def test_parse_errors_do_not_repeat_the_personal_data() -> None:
    for raw in ["19.283.746-0", "98765-4321"]:
        with pytest.raises(ValueError) as info:
            parse_national_id(raw)
        assert raw not in str(info.value)
        assert "283" not in str(info.value)
        assert "876" not in str(info.value)


def test_national_id_is_immutable() -> None:
    national_id = parse_national_id("12345678-5")
    with pytest.raises(dataclasses.FrozenInstanceError):
        national_id.value = "x"  # type: ignore[misc]


@given(rut_bodies, st.sampled_from(["plain", "dotted"]), st.booleans(), st.booleans())
def test_every_rut_with_the_computed_check_digit_parses(
    body: str, style: str, lower: bool, padded: bool
) -> None:
    check = rut_check_digit(body)
    shown = dotted(body) if style == "dotted" else body
    raw = f"{shown}-{check.lower() if lower else check}"
    if padded:
        raw = f"  {raw}\t"
    assert parse_national_id(raw) == NationalId(value=f"{body}-{check}", kind="RUT")


@given(rut_bodies, st.sampled_from(CHECK_DIGITS), st.booleans())
def test_every_other_check_digit_is_rejected(body: str, check: str, use_dots: bool) -> None:
    assume(check != rut_check_digit(body))
    shown = dotted(body) if use_dots else body
    with pytest.raises(ValueError, match="check digit is wrong"):
        parse_national_id(f"{shown}-{check}")


@given(st.text(alphabet="0123456789", min_size=8, max_size=12))
def test_every_string_of_8_to_12_digits_is_a_plain_id(digits: str) -> None:
    assert parse_national_id(digits) == NationalId(value=digits, kind="DIGITS")


@given(st.text(max_size=20))
def test_parse_either_returns_a_canonical_id_or_raises_value_error(raw: str) -> None:
    try:
        national_id = parse_national_id(raw)
    except ValueError:
        return
    assert parse_national_id(national_id.value) == national_id
    assert re.fullmatch(r"[0-9]{8,12}|[1-9][0-9]{6,7}-[0-9K]", national_id.value)


# --- masking national ids ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("12345678-5", "*****678-5"),
        ("12.345.678-5", "*****678-5"),
        ("7.654.321-6", "****321-6"),
        ("10000013-k", "*****013-K"),
        ("99999999", "*****999"),
        ("123456789012", "*********012"),
        (" 99999999 ", "*****999"),
    ],
)
def test_mask_national_id_keeps_only_the_last_three_digits(value: str, masked: str) -> None:
    assert mask_national_id(value) == masked


@pytest.mark.parametrize("value", ["", "1234567", "12.345.678-4", "hello world", "12345-6789"])
def test_mask_national_id_hides_invalid_values_entirely(value: str) -> None:
    assert set(mask_national_id(value)) <= {"*"}


@given(rut_bodies)
def test_masked_rut_shows_three_body_digits_and_the_check_digit(body: str) -> None:
    canonical = f"{body}-{rut_check_digit(body)}"
    masked = mask_national_id(canonical)
    assert len(masked) == len(canonical)
    assert masked.endswith(canonical[-5:])
    assert masked[:-5] == "*" * (len(body) - 3)
    assert mask_national_id(f"{dotted(body)}-{rut_check_digit(body)}") == masked


@given(st.text(alphabet="0123456789", min_size=8, max_size=12))
def test_masked_plain_id_shows_three_digits(digits: str) -> None:
    masked = mask_national_id(digits)
    assert masked == "*" * (len(digits) - 3) + digits[-3:]


@given(st.text(max_size=30))
def test_masking_never_reveals_more_than_four_characters(value: str) -> None:
    shown = revealed(mask_national_id(value))
    assert len(shown) <= 4
    if shown:
        assert parse_national_id(value).value.replace("-", "").endswith(shown)


# --- phones ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("+56912345678", "+56912345678"),
        ("56912345678", "56912345678"),
        ("+56 9 1234 5678", "+56912345678"),
        ("+56 (9) 1234-5678", "+56912345678"),
        ("  912345678  ", "912345678"),
        ("12345678", "12345678"),
        ("+123456789012345", "+123456789012345"),
    ],
)
def test_normalize_phone(raw: str, normalized: str) -> None:
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+",
        "1234567",
        "+1234567",
        "1234567890123456",
        "56+912345678",
        "++56912345678",
        "+56.9.1234.5678",
        "phone 912345678",
        "９１２３４５６７８",
    ],
)
def test_normalize_phone_rejects_invalid_numbers(raw: str) -> None:
    with pytest.raises(ValueError, match="8 to 15 digits"):
        normalize_phone(raw)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+56912345678", "+*******5678"),
        ("+56 9 1234 5678", "+*******5678"),
        ("912345678", "*****5678"),
        ("12345678", "****5678"),
        ("1234", "****"),
        ("+123", "****"),
        ("", ""),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@given(st.from_regex(r"\+?[0-9]{8,15}", fullmatch=True))
def test_masked_phone_keeps_the_plus_and_last_four_digits(phone: str) -> None:
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    assert masked.startswith("+") == phone.startswith("+")
    assert masked.endswith(phone[-4:])
    assert len(revealed(masked)) == 4


@given(st.text(max_size=30))
def test_phone_masking_never_reveals_more_than_four_digits(raw: str) -> None:
    shown = revealed(mask_phone(raw))
    assert len(shown) <= 4
    assert shown == "" or normalize_phone(raw).endswith(shown)
