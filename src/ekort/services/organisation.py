"""The organisation, its units, and the accounts its staff sign in with.

No page edits these yet: `ekort demo` sets up its region through here. A role is a Django group
named after `Role` (E10); an account ties a user to the person it belongs to and, for an ID
administrator, to the card office they work at.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.db import transaction

from ekort.domain.vocabulary import Role
from ekort.store.models import Account, Organisation, Unit


def create_organisation(*, name: str, organisation_number: str) -> Organisation:
    return Organisation.objects.create(name=name, organisation_number=organisation_number)


def create_unit(*, organisation_id: int, name: str, hsa_id: str | None = None) -> Unit:
    return Unit.objects.create(organisation_id=organisation_id, name=name, hsa_id=hsa_id)


def create_user(
    *, username: str, password_hash: str, roles: Iterable[Role], superuser: bool = False
) -> User:
    """A login with its roles. The password comes hashed (`make_password`), so that a caller
    creating many can hash them side by side, outside its transaction."""
    with transaction.atomic():
        user = User.objects.create(
            username=username,
            password=password_hash,
            is_staff=superuser,
            is_superuser=superuser,
        )
        user.groups.set([Group.objects.get_or_create(name=role.value)[0] for role in roles])
    return user


def create_account(*, user_id: int, person_id: int | None, office_id: int | None) -> Account:
    """Ties a login to the person it belongs to and, for an ID administrator, their office."""
    return Account.objects.create(user_id=user_id, person_id=person_id, office_id=office_id)
