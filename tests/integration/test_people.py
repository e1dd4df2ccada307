"""Registering persons: identifiers are checked first and bad input writes nothing."""

from __future__ import annotations

import pytest

from ekort.domain.errors import InvalidIdentifier, InvalidInput, NotFound, Refused
from ekort.services import audit
from ekort.services.people import PersonDetails, register_person, set_manager
from ekort.store.models import AuditEntry, Person
from tests import instants as t
from tests.factories import identity_number

pytestmark = pytest.mark.django_db


def details(**overrides):
    values = {
        "identity_number": identity_number("19900215"),
        "given_name": "Sara",
        "family_name": "Lind",
        "street_address": "Norra Kungsgatan 3",
        "postal_code": "803 20",
        "postal_town": "Gävle",
        "hsa_id": "SE2321000198-sl01",
    }
    return PersonDetails(**{**values, **overrides})


def test_register_person_stores_canonical_number_and_masks_it_in_the_audit(world):
    number = identity_number("19900215")
    ten_digit = f"{number[2:8]}-{number[8:]}"
    person = register_person(
        actor=world.issuer, details=details(identity_number=ten_digit), now=t.NEW_PROCESS
    )
    assert person.identity_number == number
    assert person.postal_code == "80320"
    entry = AuditEntry.objects.get(action="register_person")
    assert entry.after["identity"] == f"{number[:8]}-****"
    assert number not in str(entry.before) + str(entry.after)
    assert audit.verify_trail() == []


@pytest.mark.parametrize(
    ("overrides", "error", "fragment"),
    [
        ({"identity_number": "19900215-0000"}, InvalidIdentifier, "check digit"),
        ({"identity_number": "not a number"}, InvalidIdentifier, "not an identity number"),
        ({"hsa_id": "SE2321000198-å"}, InvalidIdentifier, "A-Z"),
        ({"given_name": "  "}, InvalidInput, "given name is missing"),
        ({"postal_code": "8032"}, InvalidInput, "five digits"),
        ({"family_name": "x" * 101}, InvalidInput, "longer than 100"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(world, overrides, error, fragment):
    persons, entries = Person.objects.count(), AuditEntry.objects.count()
    with pytest.raises(error) as raised:
        register_person(actor=world.issuer, details=details(**overrides), now=t.NEW_PROCESS)
    assert fragment in str(raised.value)
    assert (Person.objects.count(), AuditEntry.objects.count()) == (persons, entries)


def test_duplicate_identity_number_is_refused_without_echoing_it(world):
    first = details()
    register_person(actor=world.issuer, details=first, now=t.NEW_PROCESS)
    again = details(identity_number=first.identity_number, hsa_id=None)
    with pytest.raises(InvalidInput) as raised:
        register_person(actor=world.issuer, details=again, now=t.NEW_PROCESS)
    assert "registered already" in str(raised.value)
    assert first.identity_number[:8] not in str(raised.value)  # not even the birth date


def test_only_issuer_admin_or_support_registers(world):
    with pytest.raises(Refused) as refused:
        register_person(actor=world.holder, details=details(), now=t.NEW_PROCESS)
    assert refused.value.rule == "E10"


def test_set_manager_is_audited_and_refuses_self(world):
    person = set_manager(
        actor=world.support, person_id=world.employee.pk, manager_id=None, now=t.NEW_PROCESS
    )
    assert person.manager_id is None
    with pytest.raises(InvalidInput):
        set_manager(
            actor=world.support, person_id=person.pk, manager_id=person.pk, now=t.NEW_PROCESS
        )
    assert AuditEntry.objects.filter(action="set_manager").count() == 1


def test_set_manager_of_a_person_or_to_a_manager_that_does_not_exist_changes_nothing(world):
    gone = Person.objects.order_by("-pk").first().pk + 1
    employee = world.employee
    with pytest.raises(NotFound, match=f"no person with id {gone}\\.$"):
        set_manager(actor=world.support, person_id=gone, manager_id=None, now=t.NEW_PROCESS)
    with pytest.raises(NotFound, match=f"no person with id {gone} to be the manager"):
        set_manager(actor=world.support, person_id=employee.pk, manager_id=gone, now=t.NEW_PROCESS)
    assert Person.objects.get(pk=employee.pk).manager_id == world.manager.pk
    assert not AuditEntry.objects.filter(action="set_manager").exists()
