"""Card numbers: the number printed on the back of the card and carried in its certificates.

Format: the issuer prefix (digits), a zero-padded running number, and a Luhn check digit, so
that a mistyped number is caught at the counter before any lookup.
"""

from __future__ import annotations

from .errors import InvalidIdentifier, InvalidInput
from .identifiers import IdentifierProblem

SEQUENCE_DIGITS = 10


def luhn_digit(payload: str) -> int:
    """The standard (ISO/IEC 7812) Luhn check digit for `payload`."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def format_card_number(prefix: str, sequence: int) -> str:
    if not prefix.isdigit() or sequence < 1 or sequence >= 10**SEQUENCE_DIGITS:
        raise InvalidInput(f"cannot make a card number from prefix {prefix!r} and {sequence}")
    payload = f"{prefix}{sequence:0{SEQUENCE_DIGITS}d}"
    return f"{payload}{luhn_digit(payload)}"


def parse_card_number(text: object, prefix: str) -> str:
    """A card number as typed by a person (spaces allowed), or a clear error."""
    if not isinstance(text, str):
        raise InvalidIdentifier(
            "A card number is a string of digits.", problem=IdentifierProblem.CARD_FORM
        )
    digits = "".join(text.split())
    length = len(prefix) + SEQUENCE_DIGITS + 1
    if not digits.isascii() or not digits.isdigit() or len(digits) != length:
        raise InvalidIdentifier(
            f"A card number has {length} digits; check the number on the card's back.",
            problem=IdentifierProblem.CARD_FORM,
        )
    if not digits.startswith(prefix):
        raise InvalidIdentifier(
            f"Card numbers of this region start with {prefix}.",
            problem=IdentifierProblem.CARD_PREFIX,
        )
    if luhn_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidIdentifier(
            "The card number's last digit does not match; check for a typing error.",
            problem=IdentifierProblem.CARD_CHECK_DIGIT,
        )
    return digits
