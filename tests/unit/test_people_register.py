"""The people register's records read as hostile input, and the end of employment (E13) at
named instants around its boundary, in Stockholm time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ekort.domain.errors import InvalidInput
from ekort.domain.people_register import (
    SourceRecord,
    card_face_outdated,
    decide_employment,
    read_record,
    same_as_stored,
)
from tests import instants as t
from tests.factories import luhn

TODAY = date(2024, 6, 1)
NUMBER = "199002151234"[:11]
NUMBER += str(luhn(NUMBER[2:]))


def record(**values: str) -> SourceRecord:
    base = {"identity_number": NUMBER, "given_name": "Sara", "family_name": "Lind"}
    return SourceRecord("line 2", {**base, **values})


def test_a_record_reads_as_a_person_with_the_fields_it_gives():
    person = read_record(
        record(
            hsa_id="SE2321000198-sl01",
            email=" sara@example.se ",
            postal_code="803 20",
            protected_identity="Ja",
            employment_ends="2024-05-31",
            given_name="  Sara   Maria ",
        ),
        today=TODAY,
    )
    assert person.identity.digits == NUMBER
    assert (person.given_name, person.email, person.postal_code) == (
        "Sara Maria",
        "sara@example.se",
        "80320",
    )
    assert person.protected_identity is True
    assert person.employment_ends == date(2024, 5, 31)
    assert "street_address" not in person.given


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"identity_number": NUMBER[:-1] + str((int(NUMBER[-1]) + 1) % 10)}, "check digit"),
        ({"given_name": " "}, "given name is missing"),
        ({"family_name": ""}, "family name is missing"),
        ({"hsa_id": "SE2321000198-å"}, "The HSA-id"),
        ({"unit_hsa_id": "unit 7"}, "unit's HSA-id"),
        ({"hsa_id": "SE2321000198-a1", "manager_hsa_id": "SE2321000198-a1"}, "own manager"),
        ({"email": "not an address"}, "e-mail address"),
        ({"postal_code": "8032"}, "five digits"),
        ({"protected_identity": "kanske"}, "yes or no"),
        ({"employment_ends": "31/5/2024"}, "YYYY-MM-DD"),
        ({"employment_ends": "2024-02-30"}, "YYYY-MM-DD"),
        ({"given_name": "Sa\x00ra"}, "control characters"),
        ({"salary": "1"}, "Unknown fields"),
    ],
)
def test_a_bad_record_is_refused_with_the_reason(values, fragment):
    with pytest.raises(InvalidInput) as refused:
        read_record(record(**values), today=TODAY)
    assert fragment in str(refused.value)


def test_an_ldap_generalized_time_reads_as_its_day():
    person = read_record(record(employment_ends="20240531000000Z"), today=TODAY)
    assert person.employment_ends == date(2024, 5, 31)


@pytest.mark.parametrize(
    ("now", "employed"),
    [
        (t.sthlm(2024, 5, 31, 0, 0), True),
        (t.sthlm(2024, 5, 31, 23, 59, 59), True),
        (t.sthlm(2024, 6, 1, 0, 0), False),
        # The same instants in UTC (CEST is +02:00): the day is Stockholm's, not UTC's.
        (datetime(2024, 5, 31, 21, 59, 59, tzinfo=UTC), True),
        (datetime(2024, 5, 31, 22, 0, tzinfo=UTC), False),
    ],
)
def test_employment_ends_after_its_last_day_in_stockholm(now, employed):
    decision = decide_employment(date(2024, 5, 31), now)
    assert decision.allowed is employed
    assert decision.rule == "E13"
    if not employed:
        assert "2024-05-31" in decision.en


def test_no_end_date_is_employed():
    assert decide_employment(None, t.NEW_PROCESS).allowed


def test_a_record_like_the_register_needs_no_reading():
    stored = {
        "identity_number": NUMBER,
        "hsa_id": "",
        "given_name": "Sara",
        "family_name": "Lind",
        "protected_identity": False,
        "employment_ends": "",
    }
    assert same_as_stored(record().values, stored)
    assert same_as_stored(record(identity_number=f"{NUMBER[:8]}-{NUMBER[8:]}").values, stored)
    assert same_as_stored(record(protected_identity="nej").values, stored)
    assert not same_as_stored(record(protected_identity="ja").values, stored)
    assert not same_as_stored(record(identity_number=f"{NUMBER[:10]}-{NUMBER[10:]}").values, stored)
    assert not same_as_stored(record(family_name="Berg").values, stored)
    assert not same_as_stored({"identity_number": NUMBER, "given_name": "Sara"}, stored)


def test_a_card_face_is_outdated_when_made_before_the_name_changed():
    assert card_face_outdated(t.NEW_PROCESS, t.AFTER_ACTIVATION_WINDOW)
    assert not card_face_outdated(t.AFTER_ACTIVATION_WINDOW, t.NEW_PROCESS)
    assert not card_face_outdated(None, t.NEW_PROCESS)
    assert not card_face_outdated(t.NEW_PROCESS, None)
