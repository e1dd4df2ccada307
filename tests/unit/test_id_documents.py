"""Identity documents (E4, R17), SIS marking by issue date (R17) and the holder's age (E5)."""

from __future__ import annotations

import inspect
from datetime import date
from importlib import resources

import pytest

from ekort.domain import id_documents
from ekort.domain.errors import InvalidInput
from ekort.domain.id_documents import (
    ACCEPTED_KINDS,
    DocumentKind,
    decide_holder_age,
    decide_identity_document,
    normalise_document_number,
    sis_marked_on_issue,
)
from ekort.domain.policy_calendar import PolicyCalendar, default_calendar
from ekort.domain.vocabulary import AssuranceLevel

LOA3, LOA2 = AssuranceLevel.LOA3, AssuranceLevel.LOA2

# The day of the identity check, and the expiry dates around it.
CHECKED_ON = date(2024, 2, 12)
EXPIRED_YESTERDAY = date(2024, 2, 11)
EXPIRES_TODAY = date(2024, 2, 12)
EXPIRES_TOMORROW = date(2024, 2, 13)

# R17: the last SIS-marked issue day and the first company-card day.
LAST_SIS_DAY = date(2022, 9, 30)
FIRST_COMPANY_CARD_DAY = date(2022, 10, 1)

# E5: someone born on BIRTH turns 18 on EIGHTEENTH and 15 on FIFTEENTH.
BIRTH = date(2006, 5, 2)
EIGHTEENTH = date(2024, 5, 2)
DAY_BEFORE_EIGHTEENTH = date(2024, 5, 1)
FIFTEENTH = date(2021, 5, 2)
DAY_BEFORE_FIFTEENTH = date(2021, 5, 1)

# Born on a leap day. Neither 18 nor 15 is a multiple of 4, so that birthday always falls in a
# common year, where ekort reads it as 28 February (see id_documents.birthday_of_age).
LEAP_BIRTH = date(2004, 2, 29)
LEAP_EIGHTEENTH = date(2022, 2, 28)
LEAP_DAY_BEFORE_EIGHTEENTH = date(2022, 2, 27)
LEAP_MARCH_FIRST = date(2022, 3, 1)
LEAP_FIFTEENTH = date(2019, 2, 28)
LEAP_DAY_BEFORE_FIFTEENTH = date(2019, 2, 27)
LATER_LEAP_BIRTH = date(2008, 2, 29)
LATER_LEAP_EIGHTEENTH = date(2026, 2, 28)
LATER_LEAP_DAY_BEFORE_EIGHTEENTH = date(2026, 2, 27)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AB1234567", "AB1234567"),
        ("ab 123 45 67", "AB1234567"),
        ("  12345678  ", "12345678"),
        ("abcd", "ABCD"),
        ("A" * 20, "A" * 20),
        ("1 2 3 4", "1234"),
        ("ab\t12", "AB12"),
    ],
)
def test_document_numbers_are_normalised(text: str, expected: str) -> None:
    assert normalise_document_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "AB1",  # 3 characters
        "A" * 21,
        "AB-12345",
        "ÅÄÖ12345",
        "straße1",  # "ß".upper() is "SS": checked before upper-casing
        "１２３４５",  # full-width digits
        "AB12345.",
    ],
)
def test_malformed_document_numbers_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_document_number(text)


@pytest.mark.parametrize("text", [12345678, None, b"AB123456"])
def test_a_document_number_that_is_not_text_is_invalid_input(text: object) -> None:
    with pytest.raises(InvalidInput):
        normalise_document_number(text)


def test_every_kind_has_both_labels() -> None:
    for kind in DocumentKind:
        assert kind.label_sv
        assert kind.label_en
    assert DocumentKind.TAX_AGENCY_ID_CARD.label_sv == "Skatteverkets id-kort"


@pytest.mark.parametrize("kind", sorted(ACCEPTED_KINDS))
@pytest.mark.parametrize("expires_on", [EXPIRES_TODAY, EXPIRES_TOMORROW])
def test_accepted_documents(kind: DocumentKind, expires_on: date) -> None:
    decision = decide_identity_document(kind, expires_on, CHECKED_ON)
    assert decision.allowed
    # R17 says SIS-marked cards are identity documents, as it says company cards are not.
    assert decision.rule == ("R17" if kind is DocumentKind.SIS_MARKED_CARD else "E4")


def test_accepting_a_sis_marked_card_cites_r17_in_both_languages() -> None:
    decision = decide_identity_document(DocumentKind.SIS_MARKED_CARD, EXPIRES_TODAY, CHECKED_ON)
    assert (decision.allowed, decision.rule) == (True, "R17")
    assert decision.sv == (
        "SIS-märkt id- eller tjänstekort godtas: SIS-märkta kort är giltig legitimation."
    )
    assert decision.en == (
        "SIS-marked ID card is accepted: SIS-marked cards are valid identity documents."
    )


@pytest.mark.parametrize(
    ("kind", "expires_on", "digital", "rule", "en_contains"),
    [
        (DocumentKind.COMPANY_CARD, EXPIRES_TOMORROW, False, "R17", "only a service ID"),
        (DocumentKind.OTHER, EXPIRES_TOMORROW, False, "E4", "not accepted"),
        (DocumentKind.PASSPORT, EXPIRES_TOMORROW, True, "E4", "digital ID"),
        (DocumentKind.DRIVING_LICENCE, None, False, "E4", "expiry date must be recorded"),
        (DocumentKind.NATIONAL_ID_CARD, EXPIRED_YESTERDAY, False, "E4", "2024-02-11"),
        (DocumentKind.SIS_MARKED_CARD, EXPIRED_YESTERDAY, False, "E4", "has expired"),
    ],
)
def test_refused_documents(
    kind: DocumentKind, expires_on: date | None, digital: bool, rule: str, en_contains: str
) -> None:
    decision = decide_identity_document(kind, expires_on, CHECKED_ON, digital=digital)
    assert not decision.allowed
    assert decision.rule == rule
    assert en_contains in decision.en


def test_company_card_refusal_wording() -> None:
    decision = decide_identity_document(DocumentKind.COMPANY_CARD, EXPIRES_TOMORROW, CHECKED_ON)
    assert decision.en == (
        "A card without SIS marking is only a service ID, not an identity document."
    )
    assert "SIS-märkning" in decision.sv


def test_expired_refusal_names_the_date_in_both_languages() -> None:
    decision = decide_identity_document(DocumentKind.PASSPORT, EXPIRED_YESTERDAY, CHECKED_ON)
    assert "2024-02-11" in decision.sv
    assert "2024-02-11" in decision.en


@pytest.mark.parametrize(
    ("issued_on", "sis_marked"),
    [
        (date(2015, 6, 1), True),
        (date(2022, 9, 29), True),
        (LAST_SIS_DAY, True),
        (FIRST_COMPANY_CARD_DAY, False),
        (date(2024, 1, 26), False),
    ],
)
def test_sis_marking_by_issue_date(issued_on: date, sis_marked: bool) -> None:
    assert sis_marked_on_issue(issued_on, default_calendar()) is sis_marked


def test_sis_marking_follows_the_calendar_it_is_given() -> None:
    """The last SIS-marked issue day is the calendar's data, not a second date in the code."""
    shipped = (resources.files("ekort.domain") / "data" / "gavleborg-2024.toml").read_text(
        encoding="utf-8"
    )
    assert "last_day = 2022-09-30" in shipped and "first_day = 2022-10-01" in shipped
    earlier = PolicyCalendar.from_toml(
        shipped.replace("last_day = 2022-09-30", "last_day = 2021-12-31").replace(
            "first_day = 2022-10-01", "first_day = 2022-01-01"
        )
    )
    assert sis_marked_on_issue(date(2021, 12, 31), earlier) is True
    assert sis_marked_on_issue(date(2022, 1, 1), earlier) is False
    assert sis_marked_on_issue(LAST_SIS_DAY, earlier) is False
    assert sis_marked_on_issue(LAST_SIS_DAY, default_calendar()) is True
    source = inspect.getsource(id_documents)
    assert "2022, 9, 30" not in source and "2022-09-30" not in source


@pytest.mark.parametrize(
    ("birth_date", "on", "level", "allowed"),
    [
        (BIRTH, EIGHTEENTH, LOA3, True),
        (BIRTH, DAY_BEFORE_EIGHTEENTH, LOA3, False),
        (BIRTH, FIFTEENTH, LOA2, True),
        (BIRTH, DAY_BEFORE_FIFTEENTH, LOA2, False),
        (BIRTH, DAY_BEFORE_EIGHTEENTH, LOA2, True),  # 17 is enough for LoA2
        (BIRTH, BIRTH, LOA2, False),  # born today
        (LEAP_BIRTH, LEAP_EIGHTEENTH, LOA3, True),  # 28 February in a common year
        (LEAP_BIRTH, LEAP_DAY_BEFORE_EIGHTEENTH, LOA3, False),
        (LEAP_BIRTH, LEAP_MARCH_FIRST, LOA3, True),
        (LEAP_BIRTH, LEAP_FIFTEENTH, LOA2, True),
        (LEAP_BIRTH, LEAP_DAY_BEFORE_FIFTEENTH, LOA2, False),
        (LATER_LEAP_BIRTH, LATER_LEAP_EIGHTEENTH, LOA3, True),
        (LATER_LEAP_BIRTH, LATER_LEAP_DAY_BEFORE_EIGHTEENTH, LOA3, False),
    ],
)
def test_holder_age(birth_date: date, on: date, level: AssuranceLevel, allowed: bool) -> None:
    decision = decide_holder_age(birth_date, on, level)
    assert decision.allowed is allowed
    assert decision.rule == "E5"


def test_leap_day_birth_comes_of_age_on_28_february() -> None:
    refused = decide_holder_age(LEAP_BIRTH, LEAP_DAY_BEFORE_EIGHTEENTH, LOA3)
    assert "2022-02-28" in refused.en
    assert "2022-02-28" in refused.sv


def test_age_refusal_says_when_the_holder_comes_of_age() -> None:
    decision = decide_holder_age(BIRTH, DAY_BEFORE_EIGHTEENTH, LOA3)
    assert "2024-05-02" in decision.en
    assert "2024-05-02" in decision.sv
    assert "18" in decision.sv


def test_birth_date_after_the_check_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        decide_holder_age(date(2024, 5, 3), date(2024, 5, 2), LOA3)
