"""Who may do what (E10): each permission names the roles that may act and, for each role, on
whose cards or persons - their own, those of the people they manage, or anyone's.

The table is data; `decide_access` is the one function that refuses E10. The services ask it
before they act, the portal and the API before they show a form, and the queries that list what
an account may see are built from the same table (`services.visibility`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .errors import Decision, decides
from .rulebook import rule
from .vocabulary import Role


class Relation(StrEnum):
    """The actor's relation to the person a card or a record belongs to."""

    SELF = "self"  # it is the actor's own
    MANAGER = "manager"  # the actor is that person's manager
    # The card was handed out or activated at the actor's card office (an ID administrator's
    # share of the renewal worklist).
    OFFICE = "office"
    OTHER = "other"


class Grant(StrEnum):
    """A permission of its own, held besides a role: a Django group of this name, given to the
    few staff who need it."""

    # Behörighet för skyddade personuppgifter: reads the address of a person whose personal
    # data is protected.
    PROTECTED_ADDRESSES = "protected_addresses"


ANYONE = frozenset(Relation)
STAFF = (Role.ID_ADMIN, Role.SUPPORT, Role.ISSUER_ADMIN)
# The security officer is not staff in this sense: they see no person or card, and change
# nothing but the roles (GRANT_ROLES); they read the audit trail (READ_AUDIT).


@dataclass(frozen=True)
class Permission:
    """The roles that may do something, each with the relations it may do it under, and what a
    refusal says when the account holds such a role but not for this card or person. A
    permission with a `grant` also needs the account to hold that grant."""

    roles: Mapping[Role, frozenset[Relation]]
    sv: str = ""
    en: str = ""
    grant: Grant | None = None


def needs(*roles: Role) -> Permission:
    """A permission for these roles, on anyone's cards."""
    return Permission({role: ANYONE for role in roles})


BLOCK = Permission(
    {
        Role.HOLDER: frozenset({Relation.SELF}),
        Role.ORDERER: frozenset({Relation.MANAGER}),
        **{role: ANYONE for role in STAFF},
    },
    "Du kan bara spärra dina egna kort eller dina medarbetares.",
    "You can block only your own cards or those of people you manage.",
)
ORDER_PIN_LETTER = Permission(
    {
        Role.HOLDER: frozenset({Relation.SELF}),
        Role.SUPPORT: ANYONE,
        Role.ID_ADMIN: ANYONE,
    },
    "Du kan bara beställa brev till dina egna kort.",
    "You can order letters for your own cards only.",
)
OWN_CERTIFICATES = Permission(
    {Role.HOLDER: frozenset({Relation.SELF})},
    "Det här är inte ditt kort.",
    "This is not your card.",
)
_SEEING = {
    Role.HOLDER: frozenset({Relation.SELF}),
    Role.ORDERER: frozenset({Relation.SELF, Relation.MANAGER}),
    **{role: ANYONE for role in STAFF},
}
SEE_PERSON = Permission(
    _SEEING,
    "Du får inte se personen.",
    "You may see only yourself, the persons you manage and their cards.",
)
SEE_CARD = Permission(
    _SEEING,
    "Du får inte se kortet.",
    "You may see only yourself, the persons you manage and their cards.",
)

# The renewal worklist (E12): a manager's staff's cards, those an ID administrator's office
# handed out or activated, everyone's for support. A holder sees their own on Mina sidor.
SEE_EXPIRING = Permission(
    {
        Role.ORDERER: frozenset({Relation.MANAGER}),
        Role.ID_ADMIN: frozenset({Relation.OFFICE}),
        Role.SUPPORT: ANYONE,
    },
    "Du ser bara kort som går ut för dina medarbetare eller ditt kortkontor.",
    "You see only the expiring cards of your staff or your card office.",
)

# The address of a person with protected personal data (skyddade personuppgifter): staff who
# hold the grant, on a person's own page; never in a list, an export or a notice.
SEE_PROTECTED_ADDRESS = Permission(
    {role: ANYONE for role in STAFF},
    "Adressen är skyddad (skyddade personuppgifter) och visas bara med en särskild behörighet.",
    "The address is protected (skyddade personuppgifter) and shown only with a permission of "
    "its own.",
    grant=Grant.PROTECTED_ADDRESSES,
)


# Granting and withdrawing roles and permissions (never one's own, E15), and reading the role
# grants, the audit trail and the histories in it.
GRANT_ROLES = needs(Role.SECURITY_OFFICER)
READ_AUDIT = needs(Role.SECURITY_OFFICER)


def relation(actor_person: int | None, person: int, manager: int | None) -> Relation:
    """How the account's person stands to `person` (whose manager is `manager`)."""
    if actor_person is None:
        return Relation.OTHER
    if actor_person == person:
        return Relation.SELF
    if actor_person == manager:
        return Relation.MANAGER
    return Relation.OTHER


@decides("E10")
def decide_access(
    permission: Permission,
    held: frozenset[Role],
    to: Relation = Relation.OTHER,
    grants: frozenset[Grant] = frozenset(),
) -> Decision:
    """May an account holding `held` (and `grants`) do what `permission` covers, on something
    that stands in relation `to` it? A permission of `needs(...)` only asks for a role."""
    e10 = rule("E10")
    roles = [role for role in permission.roles if role in held]
    if not roles:
        names = ", ".join(permission.roles)
        mine = ", ".join(sorted(held)) or "none"
        return Decision.refuse(
            "E10",
            f"{e10.sv} Krävs: {names}.",
            f"This needs one of the roles {names}; the account has {mine}.",
        )
    if permission.grant is not None and permission.grant not in grants:
        return Decision.refuse("E10", f"{e10.sv} {permission.sv}", f"{e10.en} {permission.en}")
    if any(to in permission.roles[role] for role in roles):
        return Decision.allow("E10", e10.sv, e10.en)
    return Decision.refuse("E10", f"{e10.sv} {permission.sv}", f"{e10.en} {permission.en}")
