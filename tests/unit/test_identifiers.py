"""Tests for ekort.domain.identifiers.

Valid fixtures get their check digit from `luhn`, a helper written here, so that the module
under test never vouches for its own test data.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ekort.domain.card_numbers import SEQUENCE_DIGITS, format_card_number, parse_card_number
from ekort.domain.errors import InvalidIdentifier, InvalidInput
from ekort.domain.identifiers import (
    HsaId,
    IdentifierProblem,
    IdentityKind,
    IdentityNumber,
    is_identity_number,
    luhn_check_digit,
    parse_hsa_id,
    parse_identity_number,
)

TODAY = date(2024, 6, 15)
PNR = IdentityKind.PERSONNUMMER
SAM = IdentityKind.SAMORDNINGSNUMMER


def luhn(payload: str) -> str:
    """Independent Luhn: the check digit that makes payload+digit sum to 0 mod 10."""
    for candidate in "0123456789":
        number = payload + candidate
        total = 0
        for index, char in enumerate(number[::-1]):
            value = int(char) * (1 if index % 2 == 0 else 2)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def build(yyyymmdd: str, serial: str, separator: str = "-", *, short: bool = False) -> str:
    """An identity number with a correct check digit, in the 12- or 10-digit form."""
    check = luhn(yyyymmdd[2:] + serial)
    return f"{yyyymmdd[2:] if short else yyyymmdd}{separator}{serial}{check}"


def wrong_check(text: str) -> str:
    return text[:-1] + str((int(text[-1]) + 1) % 10)


def parse(text: object, today: date = TODAY) -> IdentityNumber:
    return parse_identity_number(text, today=today)  # type: ignore[arg-type]


# --- Luhn -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [("121212121", 2), ("811228987", 4), ("000000000", 0), ("5", 9), ("7992739871", 3)],
)
def test_luhn_check_digit_known_values(payload: str, expected: int) -> None:
    assert luhn_check_digit(payload) == expected
    assert luhn(payload) == str(expected)


@pytest.mark.parametrize("bad", ["", "12a4", "١٢٣", "１２３", " 123", None, 123])
def test_luhn_check_digit_refuses_non_digits(bad: object) -> None:
    with pytest.raises(InvalidIdentifier):
        luhn_check_digit(bad)  # type: ignore[arg-type]


@given(st.text(alphabet="0123456789", min_size=1, max_size=40))
def test_luhn_check_digit_matches_independent_helper(payload: str) -> None:
    assert str(luhn_check_digit(payload)) == luhn(payload)


# --- Valid identity numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical", "birth", "kind"),
    [
        ("19121212-1212", "19121212-1212", date(1912, 12, 12), PNR),
        ("191212121212", "19121212-1212", date(1912, 12, 12), PNR),
        ("121212+1212", "19121212-1212", date(1912, 12, 12), PNR),
        ("121212-1212", "20121212-1212", date(2012, 12, 12), PNR),
        ("1212121212", "20121212-1212", date(2012, 12, 12), PNR),
        ("811228-9874", "19811228-9874", date(1981, 12, 28), PNR),
        ("8112289874", "19811228-9874", date(1981, 12, 28), PNR),
        ("811228+9874", "18811228-9874", date(1881, 12, 28), PNR),
        ("  811228-9874\n", "19811228-9874", date(1981, 12, 28), PNR),
        ("\t19811228-9874 ", "19811228-9874", date(1981, 12, 28), PNR),
        (build("19900161", "123"), build("19900161", "123"), date(1990, 1, 1), SAM),
    ],
)
def test_valid_forms(text: str, canonical: str, birth: date, kind: IdentityKind) -> None:
    number = parse(text)
    assert number.canonical == canonical
    assert str(number) == canonical
    assert number.digits == canonical.replace("-", "")
    assert number.birth_date == birth
    assert number.kind is kind
    assert is_identity_number(text, today=TODAY)


@pytest.mark.parametrize(
    ("yymmdd", "separator", "year"),
    [
        ("240614", "-", 2024),  # yesterday
        ("240615", "-", 2024),  # born today
        ("240616", "-", 1924),  # "tomorrow" can only be a century ago
        ("240616", "", 1924),
        ("241231", "-", 1924),
        ("250101", "-", 1925),
        ("000101", "-", 2000),
        ("240615", "+", 1924),  # turned 100 today
        ("240616", "+", 1824),
        ("250101", "+", 1825),
    ],
)
def test_century_of_the_ten_digit_form(yymmdd: str, separator: str, year: int) -> None:
    yyyymmdd = f"{year}{yymmdd[2:]}"
    number = parse(build(yyyymmdd, "239", separator, short=True))
    assert number.birth_date == date(year, int(yymmdd[2:4]), int(yymmdd[4:]))
    assert number.canonical == build(yyyymmdd, "239")


def test_century_follows_the_given_today() -> None:
    text = build("19240616", "239", short=True)
    assert parse(text, date(2024, 6, 15)).birth_date == date(1924, 6, 16)
    assert parse(text, date(2024, 6, 16)).birth_date == date(2024, 6, 16)


@pytest.mark.parametrize(
    ("yyyymmdd", "separator", "short", "birth"),
    [
        ("20000229", "-", False, date(2000, 2, 29)),
        ("20000229", "-", True, date(2000, 2, 29)),
        ("19960229", "", False, date(1996, 2, 29)),
        ("20240229", "-", False, date(2024, 2, 29)),
        ("20000289", "-", False, date(2000, 2, 29)),  # samordningsnummer on a leap day
    ],
)
def test_leap_days_that_exist(yyyymmdd: str, separator: str, short: bool, birth: date) -> None:
    assert parse(build(yyyymmdd, "384", separator, short=short)).birth_date == birth


@pytest.mark.parametrize(
    ("yyyymmdd", "separator", "short", "shown_date"),
    [
        ("19000229", "-", False, "1900-02-29"),
        ("19000229", "+", True, "1900-02-29"),
        ("20230229", "-", False, "2023-02-29"),
        ("20230229", "-", True, "2023-02-29"),
        ("19900289", "-", False, "1990-02-29"),  # samordningsnummer, not a leap year
        ("19900230", "-", False, "1990-02-30"),
        ("19900431", "-", False, "1990-04-31"),
        ("19901301", "-", False, "1990-13-01"),
        ("19900001", "-", False, "1990-00-01"),
        ("00000101", "-", False, "0000-01-01"),
    ],
)
def test_dates_that_do_not_exist(
    yyyymmdd: str, separator: str, short: bool, shown_date: str
) -> None:
    text = build(yyyymmdd, "384", separator, short=short)
    with pytest.raises(InvalidIdentifier, match="birth date does not exist") as caught:
        parse(text)
    assert shown_date not in str(caught.value) and yyyymmdd[2:] not in str(caught.value)


# --- Samordningsnummer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yyyymmdd", "birth"),
    [
        ("19900161", date(1990, 1, 1)),
        ("19900191", date(1990, 1, 31)),
        ("19901275", date(1990, 12, 15)),
    ],
)
def test_samordningsnummer_days(yyyymmdd: str, birth: date) -> None:
    for text in (build(yyyymmdd, "123"), build(yyyymmdd, "123", short=True)):
        number = parse(text)
        assert number.kind is IdentityKind.SAMORDNINGSNUMMER
        assert number.birth_date == birth
        assert number.digits[:8] == yyyymmdd  # the day keeps its +60
        assert number.masked == f"{yyyymmdd}-****"


@pytest.mark.parametrize("day", ["00", "32", "45", "60", "92", "99"])
def test_days_outside_both_ranges_are_refused(day: str) -> None:
    with pytest.raises(InvalidIdentifier, match="day is neither a day of the month") as caught:
        parse(build(f"199001{day}", "123"))
    assert f"day {day}" not in str(caught.value)


def test_samordningsnummer_real_day_must_exist() -> None:
    with pytest.raises(InvalidIdentifier, match=r"does not exist \(a samordningsnummer's day"):
        parse(build("19900491", "123"))


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("wrong", [d for d in "0123456789" if d != "2"])
def test_wrong_check_digit(wrong: str) -> None:
    text = f"19121212-121{wrong}"
    with pytest.raises(InvalidIdentifier) as caught:
        parse(text)
    # The number is not repeated: errors travel further than the person who typed it.
    assert str(caught.value) == "The identity number has a wrong check digit; check the last digit."
    assert not is_identity_number(text, today=TODAY)


@pytest.mark.parametrize(
    "text",
    [wrong_check("811228-9874"), wrong_check("8112289874"), wrong_check("811228+9874")],
)
def test_wrong_check_digit_in_ten_digit_forms(text: str) -> None:
    with pytest.raises(InvalidIdentifier, match="wrong check digit"):
        parse(text)


@pytest.mark.parametrize(
    "text",
    [build("20240616", "123"), build("20250101", "123"), build("20240676", "123")],
)
def test_future_birth_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidIdentifier, match="birth date in the future"):
        parse(text)


def test_born_today_is_accepted() -> None:
    assert parse(build("20240615", "123")).birth_date == TODAY


@pytest.mark.parametrize(
    "text",
    [
        "1990-01-01",
        "19900101",
        "900101",
        "19900101-123",
        "19900101-12345",
        "9001011-1234",
        "19900101--1234",
        "19900101 1234",
        "1990 0101-1234",
        "900101/1234",
        "19121212-1212x",
        "x19121212-1212",
        "abcdefgh-ijkl",
        "١٩١٢١٢١٢-١٢١٢",  # Arabic-Indic digits
        "１９１２１２１２-１２１２",  # full-width digits
        "19121212\u20131212",  # en dash
        "19121212-121\u00b2",  # superscript two
        "19121212-1212\x00",
        "121212-1212 121212-1212",
    ],
)
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(
        InvalidIdentifier, match="is not an identity number: write YYYYMMDD-NNNC"
    ) as caught:
        parse(text)
    assert text.strip() not in str(caught.value)
    assert not is_identity_number(text, today=TODAY)


def test_garbage_message_is_exact() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse("1990-01-01")
    assert str(caught.value) == (
        "This is not an identity number: write YYYYMMDD-NNNC (12 digits) or YYMMDD-NNNC."
    )


@pytest.mark.parametrize("text", ["19121212+1212", " 19121212+1212 "])
def test_plus_is_refused_in_the_twelve_digit_form(text: str) -> None:
    with pytest.raises(InvalidIdentifier, match="'\\+', which belongs only to the 10-digit form"):
        parse(text)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_input_has_its_own_message(text: str) -> None:
    with pytest.raises(InvalidIdentifier, match=r"^No identity number was given"):
        parse(text)


@pytest.mark.parametrize("value", [None, 191212121212, b"19121212-1212", ["19121212-1212"]])
def test_non_text_is_refused(value: object) -> None:
    with pytest.raises(InvalidIdentifier, match="must be text"):
        parse(value)
    assert not is_identity_number(value, today=TODAY)  # type: ignore[arg-type]


def test_huge_input_is_refused_quickly_and_not_echoed() -> None:
    text = "1" * 5_000_000 + "-1234"
    started = time.perf_counter()
    with pytest.raises(InvalidIdentifier) as caught:
        parse(text)
    assert time.perf_counter() - started < 1
    assert len(str(caught.value)) < 200


def test_control_characters_never_reach_a_message() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse("1912\n1212-1212\x1b[31m")
    message = str(caught.value)
    assert "\n" not in message
    assert "\x1b" not in message
    assert "1212" not in message


# --- The value object -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "sex"),
    [("121", "male"), ("987", "male"), ("982", "female"), ("000", "female"), ("009", "male")],
)
def test_legal_sex_from_the_ninth_digit(serial: str, sex: str) -> None:
    assert parse(build("19811228", serial)).legal_sex == sex


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        ("19900615", date(1990, 6, 15), 0),
        ("19900615", date(2024, 6, 14), 33),
        ("19900615", date(2024, 6, 15), 34),
        ("19900675", date(2024, 6, 15), 34),  # samordningsnummer: the real day counts
        ("20000229", date(2001, 2, 27), 0),
        ("20000229", date(2001, 2, 28), 1),  # as add_years: 29 Feb becomes 28 Feb
        ("20000229", date(2004, 2, 28), 3),
        ("20000229", date(2004, 2, 29), 4),
    ],
)
def test_age_on(birth: str, day: date, age: int) -> None:
    assert parse(build(birth, "123")).age_on(day) == age


def test_age_before_birth_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse(build("19900615", "123")).age_on(date(1990, 6, 14))


def test_masking_and_repr_hide_the_serial() -> None:
    number = parse("19121212-1212")
    assert number.masked == "19121212-****"
    assert "1212-1212" not in repr(number)
    assert "19121212-****" in repr(number)


def test_identity_number_is_frozen_and_comparable() -> None:
    number = parse("121212+1212")
    assert number == parse("191212121212")
    assert hash(number) == hash(parse("19121212-1212"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        number.digits = "191212121213"  # type: ignore[misc]


# --- Properties -------------------------------------------------------------------------------

birth_dates = st.dates(min_value=date(1830, 1, 1), max_value=TODAY)
serials = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")


def aged_100(birth: date) -> bool:
    return (birth.year + 100, birth.month, birth.day) <= (TODAY.year, TODAY.month, TODAY.day)


@given(
    birth=birth_dates,
    serial=serials,
    samordning=st.booleans(),
    form=st.sampled_from(["YYYYMMDD-NNNC", "YYYYMMDDNNNC", "YYMMDD-NNNC", "YYMMDDNNNC"]),
)
def test_property_valid_numbers_parse_back(
    birth: date, serial: str, samordning: bool, form: str
) -> None:
    day = birth.day + (60 if samordning else 0)
    yyyymmdd = f"{birth.year:04d}{birth.month:02d}{day:02d}"
    short = form.startswith("YYMMDD")
    separator = "-" if "-" in form else ""
    if short and aged_100(birth):
        separator = "+"
    text = build(yyyymmdd, serial, separator, short=short)

    number = parse(text)
    assert number.birth_date == birth
    assert number.canonical == build(yyyymmdd, serial)
    assert number.kind is (SAM if samordning else PNR)

    correct = text[-1]
    for digit in "0123456789":
        if digit != correct:
            with pytest.raises(InvalidIdentifier, match="wrong check digit"):
                parse(text[:-1] + digit)


@given(st.text(max_size=40))
def test_property_any_text_is_parsed_or_refused_cleanly(text: str) -> None:
    try:
        number = parse(text)
    except InvalidIdentifier:
        assert not is_identity_number(text, today=TODAY)
    else:
        assert number.birth_date <= TODAY
        assert len(number.digits) == 12


@given(st.text(alphabet="0123456789-+ ", max_size=16))
def test_property_digit_soup_is_parsed_or_refused_cleanly(text: str) -> None:
    if is_identity_number(text, today=TODAY):
        number = parse(text)
        assert parse(number.canonical) == number


# --- HSA-id -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("SE2321000016-abc1", "SE2321000016-abc1"),
        ("SE2321000016-A", "SE2321000016-A"),
        ("SE2321000016-AbC9xYz", "SE2321000016-AbC9xYz"),
        ("SE5565594230-0", "SE5565594230-0"),
        ("  SE2321000016-abc1\n", "SE2321000016-abc1"),
        ("SE2321000016-" + "a" * 18, "SE2321000016-" + "a" * 18),  # exactly 31 characters
    ],
)
def test_valid_hsa_ids(text: str, value: str) -> None:
    hsa_id = parse_hsa_id(text)
    assert hsa_id == HsaId(value, value[2:12])
    assert str(hsa_id) == value
    assert len(value) <= 31


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SE2321000016-" + "a" * 19, "too long for an HSA-id: 32 characters, at most 31"),
        ("SE2321000016-" + "a" * 22, "too long for an HSA-id: 35 characters, at most 31"),
        ("se2321000016-abc1", "must begin with 'SE' in capital letters"),
        ("Se2321000016-abc1", "must begin with 'SE' in capital letters"),
        ("sE2321000016-abc1", "must begin with 'SE' in capital letters"),
        ("2321000016-abc1", "must begin with 'SE' and the 10-digit organisation number"),
        ("DK2321000016-abc1", "must begin with 'SE' and the 10-digit organisation number"),
        ("SE", "'SE' must be followed by the 10-digit organisation number"),
        ("SE232100001-abc1", "'SE' must be followed by the 10-digit organisation number"),
        ("SE232100001X-abc1", "'SE' must be followed by the 10-digit organisation number"),
        ("SE 2321000016-abc1", "'SE' must be followed by the 10-digit organisation number"),
        ("SE232100００16-abc", "'SE' must be followed by the 10-digit organisation number"),
        ("SE2321000016", "must be followed by '-'"),
        ("SE2321000016abc1", "must be followed by '-'"),
        ("SE23210000161-abc", "must be followed by '-'"),
        ("SE2321000016_abc1", "must be followed by '-'"),
        ("SE2321000016-", "needs at least one character after '-'"),
        ("SE2321000016-åsa", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016-bjö", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016-ä", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016-a@b", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016-a b", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016-a-b", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016-a_b", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016--", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016-ａｂｃ", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016-abc\x00", "may only hold A-Z, a-z and 0-9"),
        ("SE2321000016-e\u0301", "may only hold A-Z, a-z and 0-9"),  # combining accent
    ],
)
def test_invalid_hsa_ids(text: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message.replace("(", r"\(")):
        parse_hsa_id(text)


@pytest.mark.parametrize("text", ["", "  ", "\n"])
def test_empty_hsa_id_has_its_own_message(text: str) -> None:
    with pytest.raises(InvalidIdentifier, match=r"^No HSA-id was given"):
        parse_hsa_id(text)


@pytest.mark.parametrize("value", [None, 2321000016, b"SE2321000016-abc1"])
def test_non_text_hsa_id_is_refused(value: object) -> None:
    with pytest.raises(InvalidIdentifier, match="must be text"):
        parse_hsa_id(value)  # type: ignore[arg-type]


def test_huge_hsa_id_is_refused_quickly_and_not_echoed() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidIdentifier, match="5000013 characters, at most 31") as caught:
        parse_hsa_id("SE2321000016-" + "a" * 5_000_000)
    assert time.perf_counter() - started < 1
    assert len(str(caught.value)) < 200


@given(
    organisation=st.text(alphabet="0123456789", min_size=10, max_size=10),
    unit=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        min_size=1,
        max_size=18,
    ),
)
def test_property_every_well_formed_hsa_id_parses(organisation: str, unit: str) -> None:
    text = f"SE{organisation}-{unit}"
    assert parse_hsa_id(text) == HsaId(text, organisation)


@given(st.text(max_size=40))
def test_property_any_text_is_an_hsa_id_or_refused_cleanly(text: str) -> None:
    try:
        hsa_id = parse_hsa_id(text)
    except InvalidIdentifier:
        return
    assert hsa_id.value.startswith("SE")
    assert len(hsa_id.value) <= 31
    assert hsa_id.value.isascii()


@given(st.from_regex(r"[0-9]{6,8}[-+]?[0-9]{4}", fullmatch=True))
def test_no_refusal_repeats_the_number_or_its_date(text: str) -> None:
    try:
        parse(text)
    except InvalidIdentifier as refusal:
        message = str(refusal)
        digits = text.replace("-", "").replace("+", "")
        assert digits[-10:] not in message and digits[-10:-4] not in message, message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", IdentifierProblem.MISSING),
        ("1985-03-12", IdentifierProblem.IDENTITY_FORM),
        ("19850312+1234", IdentifierProblem.IDENTITY_PLUS),
        ("19850230-1234", IdentifierProblem.IDENTITY_DATE),
        ("19850332-1234", IdentifierProblem.IDENTITY_DATE),
        ("20300101-1234", IdentifierProblem.IDENTITY_FUTURE),
        ("19991231-9999", IdentifierProblem.IDENTITY_CHECK_DIGIT),  # 4 would be right
    ],
)
def test_an_identity_number_refusal_names_its_problem(text, problem):
    """What is wrong, for a page to say in its own words (issue 15, point 6)."""
    with pytest.raises(InvalidIdentifier) as refused:
        parse_identity_number(text, today=TODAY)
    assert refused.value.problem == problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("SE12-abc", IdentifierProblem.HSA_FORM),
        ("SE2321000016-" + "a" * 20, IdentifierProblem.HSA_LENGTH),
        ("SE2321000016-åäö", IdentifierProblem.HSA_CHARACTERS),
    ],
)
def test_an_hsa_id_refusal_names_its_problem(text, problem):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_hsa_id(text)
    assert refused.value.problem == problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("97522100000000", IdentifierProblem.CARD_FORM),
        ("12345600000000011", IdentifierProblem.CARD_PREFIX),
        ("97522100000000012", IdentifierProblem.CARD_CHECK_DIGIT),
        (97522100000000011, IdentifierProblem.CARD_FORM),  # a number, not its digits as text
    ],
)
def test_a_card_number_refusal_names_its_problem(text, problem):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_card_number(text, "975221")
    assert refused.value.problem == problem


@pytest.mark.parametrize("sequence", [1, 10**SEQUENCE_DIGITS - 1])
def test_a_card_number_is_made_from_the_first_to_the_last_running_number(sequence):
    number = format_card_number("975221", sequence)
    assert len(number) == 6 + SEQUENCE_DIGITS + 1
    assert parse_card_number(number, "975221") == number


@pytest.mark.parametrize(
    ("prefix", "sequence"),
    [("975221", 0), ("975221", 10**SEQUENCE_DIGITS), ("97522A", 1), ("", 1)],
)
def test_no_card_number_is_made_from_a_bad_prefix_or_running_number(prefix, sequence):
    with pytest.raises(InvalidInput, match="cannot make a card number"):
        format_card_number(prefix, sequence)
