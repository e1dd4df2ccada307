"""Who may do what. Roles are Django groups named after `Role`; services check them (E10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from ekort.domain.access import Grant, Permission, decide_access, needs, relation
from ekort.domain.vocabulary import Role

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Job:
    """A scheduled job acting under its own rule (the deadline sweeps, R3 and R8): it has no
    account and holds no role; the audit trail names it `job:<name>`."""

    name: str


@dataclass(frozen=True)
class Console:
    """Whoever runs the `ekort` command on the server (`ekort roles`, `ekort demo`): trusted
    with what the database's owner can do anyway, which is how the first security officer is
    made; the audit trail names them `console:<login>`."""

    login: str


def roles_of(user: Any) -> frozenset[Role]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_ekort_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role in Role if role.value in names)
        user._ekort_roles = cached
    return cached


def limit_roles(user: Any, allowed: frozenset[Role]) -> frozenset[Role]:
    """For the rest of this request, the account acts with only those of its roles that are in
    `allowed` (a card sign-in at assurance level 2 gives no staff role, E16); returns them."""
    limited = roles_of(user) & allowed
    user._ekort_roles = limited
    return limited


def grants_of(user: Any) -> frozenset[Grant]:
    """The permissions of their own the account holds besides its roles (`Grant`), each a
    Django group of the grant's name."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    names = set(user.groups.filter(name__in=list(Grant)).values_list("name", flat=True))
    return frozenset(Grant(name) for name in names)


def require_role(user: Any, *allowed: Role) -> frozenset[Role]:
    """The account's roles, if it holds one of `allowed`; else E10 (`decide_access`)."""
    held = roles_of(user)
    decide_access(needs(*allowed), held).require()
    return held


def require_access(
    user: Any, permission: Permission, person_id: int, manager_id: int | None
) -> None:
    """E10 for something of the person `person_id` (managed by `manager_id`), as
    `permission` says (`decide_access`)."""
    to = relation(person_id_of(user), person_id, manager_id)
    decide_access(permission, roles_of(user), to).require()


def person_id_of(user: Any) -> int | None:
    account = getattr(user, "account", None)
    return account.person_id if account is not None else None


def actor_label(actor: Any) -> str:
    """Who did it, as the audit trail names them: a username, or `job:<name>`."""
    if isinstance(actor, Job):
        return f"job:{actor.name}"
    if isinstance(actor, Console):
        return f"console:{actor.login}"
    return str(actor.get_username())


def account_id_of(actor: Any) -> int | None:
    """The actor's user id for the rows that record who did something; None for a job."""
    return None if isinstance(actor, Job | Console) else int(actor.pk)
