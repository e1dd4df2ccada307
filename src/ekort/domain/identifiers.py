"""Swedish identity numbers (personnummer, samordningsnummer) and HSA-ids.

Input comes from people, forms and files, so it is treated as hostile: anything that is not
exactly one of the accepted forms is refused with `InvalidIdentifier`, whose English sentence
says what is wrong and what a valid one looks like. Messages never repeat the input, nor a part
of it such as a birth date: a refusal travels to logs, API answers and support tickets, further
than the person who typed it, and it cannot flood or forge a log line either.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from .errors import InvalidIdentifier, InvalidInput
from .timekeeping import add_years

# re.ASCII matters: without it \d also matches Arabic-Indic, full-width and other digits.
_IDENTITY_FORM = re.compile(r"(\d{8}|\d{6})([-+]?)(\d{4})", re.ASCII)
_IDENTITY_MAX_LENGTH = len("YYYYMMDD-NNNC")
_SAMORDNING_OFFSET = 60
_HSA_MAX_LENGTH = 31
_HSA_EXAMPLE = "SE2321000016-abc1"
_ASCII_DIGITS = frozenset(string.digits)
_HSA_UNIT_CHARACTERS = frozenset(string.ascii_letters + string.digits)
_FORMS = "write YYYYMMDD-NNNC (12 digits) or YYMMDD-NNNC."


class IdentifierProblem(StrEnum):
    """What is wrong with an identifier, for a page to say in a sentence of its own
    (`InvalidIdentifier.problem`) without repeating what was typed."""

    MISSING = "missing"
    # Identity numbers
    IDENTITY_FORM = "identity_form"  # not YYYYMMDD-NNNC or YYMMDD-NNNC at all
    IDENTITY_PLUS = "identity_plus"  # '+' in the 12-digit form
    IDENTITY_DATE = "identity_date"  # no such day (a samordningsnummer's day minus 60 too)
    IDENTITY_FUTURE = "identity_future"  # a birth date after today
    IDENTITY_CHECK_DIGIT = "identity_check_digit"  # the Luhn digit does not match
    # HSA-ids
    HSA_FORM = "hsa_form"  # not SE, ten digits, '-', then a unit part
    HSA_LENGTH = "hsa_length"  # over 31 characters
    HSA_CHARACTERS = "hsa_characters"  # å, ä, ö, @, spaces... after the '-'
    # Card numbers (`ekort.domain.card_numbers`)
    CARD_FORM = "card_form"  # not the region's number of digits
    CARD_PREFIX = "card_prefix"  # another issuer's prefix
    CARD_CHECK_DIGIT = "card_check_digit"  # the Luhn digit does not match


_P = IdentifierProblem


class IdentityKind(StrEnum):
    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"


def mask_identity_number(digits: str) -> str:
    """The birth date of a stored 12-digit number, the rest hidden: for pages and responses
    where the full number must not show."""
    return f"{digits[:8]}-****"


@dataclass(frozen=True, repr=False)
class IdentityNumber:
    """A valid identity number; build it with `parse_identity_number`.

    `digits` is the canonical 12-digit form YYYYMMDDNNNC; for a samordningsnummer the day keeps
    its +60, while `birth_date` is the real date.
    """

    digits: str
    kind: IdentityKind
    birth_date: date

    @property
    def canonical(self) -> str:
        return f"{self.digits[:8]}-{self.digits[8:]}"

    @property
    def masked(self) -> str:
        return mask_identity_number(self.digits)

    @property
    def legal_sex(self) -> Literal["female", "male"]:
        # The ninth digit of the 10-digit form, i.e. the last digit before the check digit.
        return "female" if int(self.digits[10]) % 2 == 0 else "male"

    def age_on(self, day: date) -> int:
        """Whole years completed on `day`; a 29 February birthday falls on 28 February in a
        common year, as `add_years` has it."""
        if day < self.birth_date:
            raise InvalidInput(f"{day.isoformat()} is before the birth date; there is no age yet.")
        years = day.year - self.birth_date.year
        if add_years(self.birth_date, years) > day:
            years -= 1
        return years

    def __str__(self) -> str:
        return self.canonical

    def __repr__(self) -> str:
        # Masked so that a traceback or debug log never carries a full identity number.
        return f"IdentityNumber({self.masked!r}, {self.kind.value})"


@dataclass(frozen=True)
class HsaId:
    """A valid HSA-id; build it with `parse_hsa_id`."""

    value: str
    organisation_number: str

    def __str__(self) -> str:
        return self.value


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit for `digits`.

    Every other digit is doubled starting from the rightmost one; for the nine digits YYMMDDNNN
    that is Skatteverket's weights 2,1,2,1... from the left.
    """
    if not isinstance(digits, str) or not digits or not set(digits) <= _ASCII_DIGITS:
        raise InvalidIdentifier("A Luhn check digit needs a string of the digits 0-9.")
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return -total % 10


def parse_identity_number(text: object, *, today: date) -> IdentityNumber:
    """Parse a personnummer or samordningsnummer written by a person.

    Accepted (surrounding whitespace aside): YYYYMMDDNNNC, YYYYMMDD-NNNC, YYMMDDNNNC,
    YYMMDD-NNNC and YYMMDD+NNNC ('+' for someone aged 100 or more). The birth date must exist
    and not be after `today`, which also settles the century of the 10-digit forms.
    """
    if not isinstance(text, str):
        raise InvalidIdentifier(
            f"An identity number must be text, not {type(text).__name__}.", problem=_P.IDENTITY_FORM
        )
    cleaned = text.strip()
    if not cleaned:
        raise InvalidIdentifier(f"No identity number was given; {_FORMS}", problem=_P.MISSING)
    match = _IDENTITY_FORM.fullmatch(cleaned) if len(cleaned) <= _IDENTITY_MAX_LENGTH else None
    if match is None:
        raise InvalidIdentifier(
            f"This is not an identity number: {_FORMS}", problem=_P.IDENTITY_FORM
        )
    date_part, separator, tail = match.groups()
    if len(date_part) == 8 and separator == "+":
        raise InvalidIdentifier(
            "The identity number uses '+', which belongs only to the 10-digit form "
            "YYMMDD+NNNC; write YYYYMMDD-NNNC.",
            problem=_P.IDENTITY_PLUS,
        )

    month, day = int(date_part[-4:-2]), int(date_part[-2:])
    if 1 <= day <= 31:
        kind, real_day = IdentityKind.PERSONNUMMER, day
    elif _SAMORDNING_OFFSET + 1 <= day <= _SAMORDNING_OFFSET + 31:
        kind, real_day = IdentityKind.SAMORDNINGSNUMMER, day - _SAMORDNING_OFFSET
    else:
        raise InvalidIdentifier(
            "The identity number's day is neither a day of the month (01-31) nor a "
            "samordningsnummer day (61-91).",
            problem=_P.IDENTITY_DATE,
        )

    if len(date_part) == 8:
        year = int(date_part[:4])
    else:
        year = _full_year(int(date_part[:2]), month, real_day, separator == "+", today)
    try:
        birth_date = date(year, month, real_day)
    except ValueError:
        note = (
            " (a samordningsnummer's day minus 60)"
            if kind is IdentityKind.SAMORDNINGSNUMMER
            else ""
        )
        raise InvalidIdentifier(
            f"The identity number's birth date does not exist{note}; check the date.",
            problem=_P.IDENTITY_DATE,
        ) from None
    if birth_date > today:
        raise InvalidIdentifier(
            "The identity number has a birth date in the future.", problem=_P.IDENTITY_FUTURE
        )

    if luhn_check_digit(date_part[-6:] + tail[:3]) != int(tail[3]):
        raise InvalidIdentifier(
            "The identity number has a wrong check digit; check the last digit.",
            problem=_P.IDENTITY_CHECK_DIGIT,
        )
    return IdentityNumber(f"{year:04d}{date_part[-4:]}{tail}", kind, birth_date)


def is_identity_number(text: object, *, today: date) -> bool:
    try:
        parse_identity_number(text, today=today)
    except InvalidIdentifier:
        return False
    return True


def parse_hsa_id(text: object) -> HsaId:
    """Parse an HSA-id: 'SE', a 10-digit organisation number, '-', then at least one of
    A-Z, a-z, 0-9; at most 31 characters. Case is kept as given."""
    if not isinstance(text, str):
        raise InvalidIdentifier(
            f"An HSA-id must be text, not {type(text).__name__}.", problem=_P.HSA_FORM
        )
    cleaned = text.strip()
    if not cleaned:
        raise InvalidIdentifier(
            f"No HSA-id was given; write one like {_HSA_EXAMPLE}.", problem=_P.MISSING
        )
    if len(cleaned) > _HSA_MAX_LENGTH:
        raise InvalidIdentifier(
            f"This is too long for an HSA-id: {len(cleaned)} characters, "
            f"at most {_HSA_MAX_LENGTH}.",
            problem=_P.HSA_LENGTH,
        )
    if not cleaned.startswith("SE"):
        problem = (
            "must begin with 'SE' in capital letters"
            if cleaned[:2].upper() == "SE"
            else "must begin with 'SE' and the 10-digit organisation number"
        )
        raise InvalidIdentifier(
            f"This is not an HSA-id: it {problem}, like {_HSA_EXAMPLE}.", problem=_P.HSA_FORM
        )
    organisation_number = cleaned[2:12]
    if len(organisation_number) != 10 or not set(organisation_number) <= _ASCII_DIGITS:
        raise InvalidIdentifier(
            "This is not an HSA-id: 'SE' must be followed by the 10-digit organisation "
            f"number, like {_HSA_EXAMPLE}.",
            problem=_P.HSA_FORM,
        )
    if cleaned[12:13] != "-":
        raise InvalidIdentifier(
            "This is not an HSA-id: the 10-digit organisation number must be followed by "
            f"'-', like {_HSA_EXAMPLE}.",
            problem=_P.HSA_FORM,
        )
    unit = cleaned[13:]
    if not unit:
        raise InvalidIdentifier(
            "This is not an HSA-id: it needs at least one character after '-', "
            f"like {_HSA_EXAMPLE}.",
            problem=_P.HSA_FORM,
        )
    if not set(unit) <= _HSA_UNIT_CHARACTERS:
        raise InvalidIdentifier(
            "This is not an HSA-id: the part after '-' may only hold A-Z, a-z and 0-9 "
            "(no å, ä, ö, @, spaces or other signs).",
            problem=_P.HSA_CHARACTERS,
        )
    return HsaId(cleaned, organisation_number)


def _full_year(two_digits: int, month: int, day: int, aged_100_or_more: bool, today: date) -> int:
    """The latest year ending in `two_digits` that puts the birthday no later than `today`;
    a century earlier for the '+' form."""
    year = today.year - (today.year - two_digits) % 100
    if year == today.year and (month, day) > (today.month, today.day):
        year -= 100
    return year - 100 if aged_100_or_more else year
