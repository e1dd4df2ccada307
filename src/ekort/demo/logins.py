"""The demo's logins: one per role, printed at the end of `ekort demo` (and so of `make run`),
and the staff who did the rest of the work in the history. The password of each is
`demo-<username>`. Their users and accounts are created through the services.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from ekort.domain.vocabulary import Role
from ekort.services import organisation
from ekort.services.roles import Console
from ekort.store.models import Account, CardOffice, Person

from .timeline import HISTORY_START


@dataclass(frozen=True)
class Login:
    purpose: str  # what the login shows: a role, or "superuser"
    username: str
    roles: tuple[Role, ...]
    person: str | None  # key of the person the account belongs to
    office: str | None = None  # town of the card office, for ID administrators
    superuser: bool = False

    @property
    def password(self) -> str:
        return f"demo-{self.username}"


_H, _O, _I, _S, _U = Role.HOLDER, Role.ORDERER, Role.ID_ADMIN, Role.SUPPORT, Role.ISSUER_ADMIN
_SO = Role.SECURITY_OFFICER
# Who sets the region's logins up: whoever runs `ekort demo`, as the audit trail says.
SET_UP_BY = Console("ekort demo")

# One login per role, printed at the end of `ekort demo`.
LOGINS: tuple[Login, ...] = (
    Login("holder", "innehavare", (_H,), "innehavare"),
    Login("orderer", "chef", (_O, _H), "chef"),
    Login("id_admin", "idadmin", (_I, _H), "idadmin", office="Gävle"),
    Login("support", "support", (_S, _H), "support"),
    Login("issuer_admin", "utgivare", (_U,), None),
    Login("security_officer", "sakerhet", (_SO,), None),
    Login("superuser", "admin", (), None, superuser=True),
)
# The staff who do the rest of the work: every manager orders for their own staff (E2), and
# whoever orders a card never hands it out (E3).
STAFF_LOGINS: tuple[Login, ...] = (
    Login("orderer", "direktor", (_O,), "direktor"),
    Login("orderer", "chef.sandviken", (_O, _H), "chef.sandviken"),
    Login("orderer", "chef.hudiksvall", (_O, _H), "chef.hudiksvall"),
    Login("orderer", "chef.bollnas", (_O, _H), "chef.bollnas"),
    Login("orderer", "chef.ljusdal", (_O, _H), "chef.ljusdal"),
    Login("orderer", "chef.it", (_O, _H), "chef.it"),
    Login("id_admin", "idadmin2", (_I, _H), "idadmin2", office="Gävle"),
    Login("id_admin", "idadmin.sandviken", (_I, _H), "idadmin.sandviken", office="Sandviken"),
    Login("id_admin", "idadmin.hudiksvall", (_I, _H), "idadmin.hudiksvall", office="Hudiksvall"),
    Login("id_admin", "idadmin.bollnas", (_I, _H), "idadmin.bollnas", office="Bollnäs"),
    Login("id_admin", "idadmin.ljusdal", (_I, _H), "idadmin.ljusdal", office="Ljusdal"),
)
ALL_LOGINS = LOGINS + STAFF_LOGINS


def hash_passwords() -> dict[str, str]:
    """Every login's password hash, by username. PBKDF2 is slow on purpose and releases the
    GIL, so threads hash side by side; done before the demo's transaction takes its lock."""
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
        hashes = list(pool.map(lambda login: make_password(login.password), ALL_LOGINS))
    return {login.username: hashed for login, hashed in zip(ALL_LOGINS, hashes, strict=True)}


def create_users(passwords: dict[str, str]) -> dict[str, User]:
    """A user with its roles for every login, by username, when the history starts: each
    account and role an entry in the audit trail."""
    return {
        login.username: organisation.create_user(
            actor=SET_UP_BY,
            username=login.username,
            password_hash=passwords[login.username],
            roles=login.roles,
            superuser=login.superuser,
            now=HISTORY_START,
        )
        for login in ALL_LOGINS
    }


def create_accounts(
    users: dict[str, User], persons: dict[str, Person], offices: dict[str, CardOffice]
) -> dict[str, User]:
    """Ties each login to its person and office; returns the users by the key of their person."""
    user_of_person: dict[str, User] = {}
    for login in ALL_LOGINS:
        user = users[login.username]
        organisation.create_account(
            user_id=user.pk,
            person_id=persons[login.person].pk if login.person else None,
            office_id=offices[login.office].pk if login.office else None,
        )
        if login.person:
            user_of_person[login.person] = user
    return user_of_person


def taken_usernames() -> list[str]:
    """The demo's usernames that the database has already."""
    return sorted(
        User.objects.filter(username__in=[login.username for login in ALL_LOGINS]).values_list(
            "username", flat=True
        )
    )


def who() -> dict[str, str]:
    """Whose each demo account is: the person and their unit, or the card office."""
    owners = {
        "admin": "Django admin (/admin/), read-only",
        "utgivare": "produces and sends cards",
        "sakerhet": "security officer: grants roles, reads the audit trail",
    }
    accounts = Account.objects.select_related("user", "person__unit", "office").filter(
        user__username__in=[login.username for login in ALL_LOGINS]
    )
    for account in accounts:
        person, office = account.person, account.office
        if person is not None:
            where = office.name if office else (person.unit.name if person.unit else "")
            owners[account.user.username] = f"{person.full_name}, {where}"
    return owners
