"""Who may do what. Roles are Django groups named after `Role`; services check them (E10)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from ekort.domain.errors import Refused
from ekort.domain.rulebook import rule
from ekort.domain.vocabulary import Role

# The actor a deadline job writes in the audit trail.
User = AbstractBaseUser | AnonymousUser


def roles_of(user: Any) -> frozenset[Role]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_ekort_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role in Role if role.value in names)
        user._ekort_roles = cached
    return cached


def require_role(user: Any, *allowed: Role) -> frozenset[Role]:
    held = roles_of(user)
    if not held.intersection(allowed):
        names = ", ".join(allowed)
        e10 = rule("E10")
        raise Refused(
            "E10",
            f"{e10.sv} Krävs: {names}.",
            f"This needs one of the roles {names}; the account has "
            f"{', '.join(sorted(held)) or 'none'}.",
        )
    return held


def person_id_of(user: Any) -> int | None:
    account = getattr(user, "account", None)
    return account.person_id if account is not None else None


def actor_label(user: Any) -> str:
    return str(user.get_username())
