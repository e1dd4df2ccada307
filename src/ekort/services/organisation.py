"""The organisation, its units, and the accounts its staff sign in with.

No page edits these yet: `ekort demo` sets up its region through here. A role is a Django group
named after `Role` (E10), granted through `role_grants` and so in the audit trail; an account
ties a user to the person it belongs to and, for an ID administrator, to the card office they
work at.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from ekort.domain.access import GRANT_ROLES
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import Role
from ekort.store.models import Account, Organisation, Unit

from . import audit, role_grants
from .roles import Console, actor_label, require_role


def create_organisation(*, name: str, organisation_number: str) -> Organisation:
    return Organisation.objects.create(name=name, organisation_number=organisation_number)


def create_unit(*, organisation_id: int, name: str, hsa_id: str | None = None) -> Unit:
    return Unit.objects.create(organisation_id=organisation_id, name=name, hsa_id=hsa_id)


def create_user(
    *,
    actor: Any,
    username: str,
    password_hash: str,
    roles: Iterable[Role],
    now: datetime,
    superuser: bool = False,
) -> User:
    """A login with its roles, for a security officer or at the command line (`Console`). The
    password comes hashed (`make_password`), so that a caller creating many can hash them side
    by side, outside its transaction. The account (`create_account`) and each role
    (`grant_role`) are entries in the audit trail."""
    require_aware(now)
    if not isinstance(actor, Console):
        require_role(actor, *GRANT_ROLES.roles)
    with transaction.atomic():
        user = User.objects.create(
            username=username,
            password=password_hash,
            is_staff=superuser,
            is_superuser=superuser,
        )
        audit.append(
            [
                audit.Change(
                    actor=actor_label(actor),
                    action="create_account",
                    object_type="account",
                    object_id=str(user.pk),
                    at=now,
                    after={"user": username, "superuser": superuser},
                )
            ]
        )
        for role in roles:
            role_grants.changed(actor, user, role, now, granting=True)
    return user


def create_account(*, user_id: int, person_id: int | None, office_id: int | None) -> Account:
    """Ties a login to the person it belongs to and, for an ID administrator, their office."""
    return Account.objects.create(user_id=user_id, person_id=person_id, office_id=office_id)
