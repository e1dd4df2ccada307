"""Registering persons and their managers. Identifiers are validated before anything is written,
and every change is audited (without the identity number in clear text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from ekort.domain.errors import InvalidInput, NotFound
from ekort.domain.identifiers import parse_hsa_id, parse_identity_number
from ekort.domain.people_register import clean_email, clean_postal_code, clean_text
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import Role
from ekort.store.models import Person, Unit

from . import audit
from .roles import actor_label, require_role


@dataclass(frozen=True)
class PersonDetails:
    identity_number: object
    given_name: object
    family_name: object
    street_address: object = ""
    postal_code: object = ""
    postal_town: object = ""
    hsa_id: object = None
    unit_id: int | None = None
    manager_id: int | None = None
    protected_identity: bool = False
    email: object = ""  # a work address, for the e-mail notices (services/notices.py)


def register_person(*, actor: Any, details: PersonDetails, now: datetime) -> Person:
    """Add a person to the register (issuer admin, or support on their behalf)."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN, Role.SUPPORT)
    identity = parse_identity_number(details.identity_number, today=local_date(now))
    hsa = None if details.hsa_id in (None, "") else str(parse_hsa_id(details.hsa_id))
    values = {
        "given_name": clean_text(details.given_name, "given name", 100, required=True),
        "family_name": clean_text(details.family_name, "family name", 100, required=True),
        "street_address": clean_text(details.street_address, "street address", 200, required=False),
        "postal_code": clean_postal_code(details.postal_code),
        "postal_town": clean_text(details.postal_town, "postal town", 100, required=False),
        "email": clean_email(details.email),
    }
    with transaction.atomic():
        if Person.objects.filter(identity_number=identity.digits).exists():
            raise InvalidInput("A person with this identity number is registered already.")
        if hsa and Person.objects.filter(hsa_id=hsa).exists():
            raise InvalidInput("This HSA-id belongs to another person.")
        if details.unit_id is not None and not Unit.objects.filter(pk=details.unit_id).exists():
            raise NotFound(f"There is no unit with id {details.unit_id}.")
        if (
            details.manager_id is not None
            and not Person.objects.filter(pk=details.manager_id).exists()
        ):
            raise NotFound(f"There is no person with id {details.manager_id} to be the manager.")
        person = Person.objects.create(
            identity_number=identity.digits,
            identity_kind=identity.kind,
            hsa_id=hsa,
            unit_id=details.unit_id,
            manager_id=details.manager_id,
            protected_identity=bool(details.protected_identity),
            **values,
        )
        audit.append(
            [
                audit.Change(
                    actor=actor_label(actor),
                    action="register_person",
                    object_type="person",
                    object_id=str(person.pk),
                    at=now,
                    # The identity number is masked: the trail must not become a register of them.
                    after={
                        "identity": identity.masked,
                        "hsa_id": hsa,
                        "manager_id": person.manager_id,
                        "protected_identity": person.protected_identity,
                    },
                ),
            ]
        )
        return person


def set_manager(*, actor: Any, person_id: int, manager_id: int | None, now: datetime) -> Person:
    """Record who may order cards for the person (E2)."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN, Role.SUPPORT)
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(pk=person_id).first()
        if person is None:
            raise NotFound(f"There is no person with id {person_id}.")
        if manager_id == person_id:
            raise InvalidInput("A person cannot be their own manager.")
        if manager_id is not None and not Person.objects.filter(pk=manager_id).exists():
            raise NotFound(f"There is no person with id {manager_id} to be the manager.")
        before = {"manager_id": person.manager_id}
        person.manager_id = manager_id
        person.save(update_fields=["manager"])
        audit.append(
            [
                audit.Change(
                    actor=actor_label(actor),
                    action="set_manager",
                    object_type="person",
                    object_id=str(person.pk),
                    at=now,
                    before=before,
                    after={"manager_id": manager_id},
                ),
            ]
        )
        return person
