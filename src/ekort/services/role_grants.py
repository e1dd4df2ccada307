"""Granting and withdrawing roles: the one way an account gets or loses a role (or a permission
of its own, `access.Grant`), each change an entry in the audit trail.

A security officer does it on Behörigheter (`/sakerhet/`), never on their own account (E15);
whoever runs `ekort roles` on the server does it too (`roles.Console`), which is how the first
security officer is made. A role is a Django group (`services.roles`); nothing else adds an
account to one: the Django admin only reads them (`store.admin`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction

from ekort.domain.access import GRANT_ROLES, READ_AUDIT, Grant, decide_access
from ekort.domain.errors import NotFound
from ekort.domain.role_grants import Entitlement, decide_role_change, entitlement_named
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import Role
from ekort.store.models import AuditEntry

from . import audit
from .roles import Console, actor_label, roles_of

ENTITLEMENTS: tuple[Entitlement, ...] = (*Role, *Grant)
_NAMES = frozenset(e.value for e in ENTITLEMENTS)


@dataclass(frozen=True)
class AccountRoles:
    """An account with the roles and permissions it holds, for the security officer's list."""

    user: User
    held: tuple[Entitlement, ...]


def _require(actor: Any, permission: Any) -> None:
    if not isinstance(actor, Console):
        decide_access(permission, roles_of(actor)).require()


def held_by(user: User) -> tuple[Entitlement, ...]:
    names = {group.name for group in user.groups.all()}
    return tuple(e for e in ENTITLEMENTS if e.value in names)


def accounts(*, actor: Any) -> list[AccountRoles]:
    """Every account and what it holds, by username (E10: a security officer)."""
    _require(actor, READ_AUDIT)
    users = (
        User.objects.prefetch_related("groups")
        .select_related("account__person", "account__office")  # named on the page
        .order_by("username")
    )
    return [AccountRoles(user, held_by(user)) for user in users]


def account(*, actor: Any, user_id: int) -> AccountRoles:
    _require(actor, READ_AUDIT)
    user = User.objects.prefetch_related("groups").filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"There is no account with id {user_id}.")
    return AccountRoles(user, held_by(user))


def grant_history(*, actor: Any, user_id: int, limit: int = 200) -> list[AuditEntry]:
    """The account's entries in the trail (created, each role granted and withdrawn), newest
    first."""
    _require(actor, READ_AUDIT)
    entries = AuditEntry.objects.filter(object_type="account", object_id=str(user_id))
    return list(entries.order_by("-seq")[:limit])


def grant_role(*, actor: Any, user_id: int, role: object, now: datetime) -> bool:
    """Give the account the role (or permission); False when it holds it already, which
    changes nothing and writes nothing. Audited as `grant_role` on the account."""
    return _change(actor, user_id, role, now, granting=True)


def withdraw_role(*, actor: Any, user_id: int, role: object, now: datetime) -> bool:
    """Take the role (or permission) from the account; False when it does not hold it.
    Audited as `withdraw_role` on the account."""
    return _change(actor, user_id, role, now, granting=False)


def _change(actor: Any, user_id: int, role: object, now: datetime, *, granting: bool) -> bool:
    require_aware(now)
    wanted = entitlement_named(role)
    _require(actor, GRANT_ROLES)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound(f"There is no account with id {user_id}.")
        if not isinstance(actor, Console):
            decide_role_change(own_account=user.pk == actor.pk).require()
        return changed(actor, user, wanted, now, granting=granting)


def changed(actor: Any, user: User, wanted: Entitlement, now: datetime, *, granting: bool) -> bool:
    """Grant or withdraw in the caller's transaction, with the account's row locked, and write
    the entry; for `grant_role`, `withdraw_role` and `organisation.create_user`."""
    before = sorted(_NAMES & set(user.groups.values_list("name", flat=True)))
    if (wanted.value in before) == granting:
        return False
    group, _ = Group.objects.get_or_create(name=wanted.value)
    if granting:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    after = sorted(set(before) | {wanted.value} if granting else set(before) - {wanted.value})
    audit.append(
        [
            audit.Change(
                actor=actor_label(actor),
                action="grant_role" if granting else "withdraw_role",
                object_type="account",
                object_id=str(user.pk),
                at=now,
                before={"roles": before},
                after={"user": user.get_username(), "role": wanted.value, "roles": after},
            )
        ]
    )
    return True
