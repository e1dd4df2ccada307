"""Builders for test records: persons with valid identity numbers, staff with roles."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.contrib.auth.models import Group, User

from ekort.domain.access import Grant
from ekort.domain.vocabulary import Role
from ekort.store.models import Account, Organisation, Person, Unit

_serial = itertools.count(200)
_bulk_serial = itertools.count()  # the persons `people` makes, across calls


def luhn(payload: str) -> int:
    """An independent Luhn, so that fixtures do not trust the code under test."""
    total = 0
    for i, ch in enumerate(payload):
        d = int(ch) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def identity_number(birth: str = "19850312", serial: int | None = None) -> str:
    """A valid 12-digit personnummer born on `birth` (YYYYMMDD)."""
    nnn = f"{next(_serial) % 1000:03d}" if serial is None else f"{serial:03d}"
    return f"{birth}{nnn}{luhn(birth[2:] + nnn)}"


def person(
    *,
    given: str = "Anna",
    family: str = "Andersson",
    birth: str = "19850312",
    manager: Person | None = None,
    unit: Unit | None = None,
    address: bool = True,
    protected: bool = False,
) -> Person:
    number = identity_number(birth)
    return Person.objects.create(
        identity_number=number,
        identity_kind="personnummer",
        hsa_id=f"SE2321000198-p{number}",
        given_name=given,
        family_name=family,
        manager=manager,
        unit=unit,
        protected_identity=protected,
        street_address="Storgatan 1" if address else "",
        postal_code="80320" if address else "",
        postal_town="Gävle" if address else "",
    )


def staff(username: str, *roles: Role, person: Person | None = None) -> User:
    user = staff_roles(User.objects.create_user(username=username, password=None), *roles)
    Account.objects.create(user=user, person=person)
    return user


def staff_roles(user: User, *roles: Role) -> User:
    """Give an account more roles, as a security officer's grant would (`role_grants`)."""
    for role in roles:
        group, _ = Group.objects.get_or_create(name=role.value)
        user.groups.add(group)
    if hasattr(user, "_ekort_roles"):
        del user._ekort_roles  # the roles cached for the request
    return user


def grant(user: User, grant: Grant) -> User:
    """Give the account a permission of its own besides its roles (`Grant`)."""
    group, _ = Group.objects.get_or_create(name=grant.value)
    user.groups.add(group)
    return user


@dataclass
class World:
    """A small region: a manager and her employee, and one account per role."""

    unit: Unit
    manager: Person
    employee: Person
    orderer: User
    id_admin: User
    id_admin_2: User
    support: User
    issuer: User
    holder: User
    security_officer: User


def world() -> World:
    org = Organisation.objects.create(name="Region Gävleborg", organisation_number="2321000198")
    unit = Unit.objects.create(organisation=org, name="Akutmottagningen Gävle")
    manager = person(given="Maria", family="Chef", birth="19700101", unit=unit)
    employee = person(given="Erik", family="Eriksson", manager=manager, unit=unit)
    return World(
        unit=unit,
        manager=manager,
        employee=employee,
        orderer=staff("chef", Role.ORDERER, Role.HOLDER, person=manager),
        id_admin=staff("idadmin", Role.ID_ADMIN),
        id_admin_2=staff("idadmin2", Role.ID_ADMIN),
        support=staff("support", Role.SUPPORT),
        issuer=staff("utgivare", Role.ISSUER_ADMIN),
        holder=staff("erik", Role.HOLDER, person=employee),
        security_officer=staff("sakerhet", Role.SECURITY_OFFICER),
    )


def people(
    count: int,
    *,
    manager: Person | None = None,
    unit: Unit | None = None,
    family: str = "Lund",
) -> list[Person]:
    """`count` persons in one INSERT (a manager's 500 staff), each with a valid identity
    number of their own: born on one of 336 days of 1981, told apart by the serial number
    (unique across calls, up to 336,000 persons); named Person0000, Person0001, ..."""
    rows = []
    for n in range(count):
        i = next(_bulk_serial)
        birth = f"1981{1 + (i // 28) % 12:02d}{1 + i % 28:02d}"
        number = identity_number(birth, serial=500 + i // 336)
        rows.append(
            Person(
                identity_number=number,
                identity_kind="personnummer",
                hsa_id=f"SE2321000198-p{number}",
                given_name=f"Person{n:04d}",
                family_name=family,
                manager=manager,
                unit=unit,
                street_address="Storgatan 1",
                postal_code="80320",
                postal_town="Gävle",
            )
        )
    return Person.objects.bulk_create(rows)


def cards(persons: list[Person], card_type: str, state: str, *, by: User, **fields: object) -> None:
    """A card of `card_type` in `state` for each person, written directly (two INSERTs), for
    lists that need many cards in given states; no service, no audit trail."""
    from datetime import UTC, datetime

    from ekort.store.models import Card, CardOrder

    at = datetime(2024, 2, 1, 9, tzinfo=UTC)
    orders = CardOrder.objects.bulk_create(
        CardOrder(person=p, card_type=card_type, ordered_by=by, ordered_at=at) for p in persons
    )
    Card.objects.bulk_create(
        Card(order=o, person=p, card_type=card_type, state=state, **fields)
        for o, p in zip(orders, persons, strict=True)
    )
