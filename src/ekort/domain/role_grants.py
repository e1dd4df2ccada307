"""Who grants and withdraws roles (E15): a security officer (säkerhetsansvarig), never on their
own account, so that nobody makes themselves an issuer administrator, and a security officer
cannot lift themselves into any other role. That the actor is a security officer is E10's
question (`access.GRANT_ROLES`); the command line on the server grants the first one.

A role is a `Role`; a permission of its own besides the roles (`access.Grant`, such as reading
protected addresses) is granted and withdrawn the same way.
"""

from __future__ import annotations

from .access import Grant
from .errors import Decision, InvalidInput, decides
from .rulebook import rule
from .vocabulary import Role

Entitlement = Role | Grant


def entitlement_named(name: object) -> Entitlement:
    """The role or permission of this name; anything else is refused with the names to use."""
    for kind in (Role, Grant):
        try:
            return kind(str(name))
        except ValueError:
            continue
    names = ", ".join([*Role, *Grant])
    raise InvalidInput(f"There is no such role; use one of {names}.")


@decides("E15")
def decide_role_change(*, own_account: bool) -> Decision:
    """May this security officer grant or withdraw a role of this account (E15)? Not of their
    own: a second security officer does that."""
    e15 = rule("E15")
    if own_account:
        return Decision.refuse(
            "E15",
            f"{e15.sv} Be en annan säkerhetsansvarig.",
            f"{e15.en} Ask another security officer.",
        )
    return Decision.allow("E15", e15.sv, e15.en)
