"""Who may see which page: one helper and one view mixin, on top of the services' roles.

The services check roles again for every action (E10); these checks only decide which pages a
signed-in account is shown, and turn "not signed in" into the sign-in page and "wrong role"
into 403.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404

from ekort.domain.vocabulary import Role
from ekort.services import visibility
from ekort.services.roles import person_id_of, roles_of
from ekort.store.models import Card, Person


def has_role(user: Any, *roles: Role) -> bool:
    """True when the signed-in, active account holds at least one of `roles`."""
    return bool(roles_of(user).intersection(roles))


def may_see_address(user: Any, protected_identity: bool) -> bool:
    """Decided in `ekort.services.visibility`, as for the API."""
    return visibility.may_see_address(user, protected_identity)


def my_person_id(user: Any) -> int:
    """The person behind the account; an account with no person has no cards of its own."""
    person_id = person_id_of(user)
    if person_id is None:
        raise PermissionDenied("Kontot är inte kopplat till någon person.")
    return person_id


def own_card(user: Any, card_id: int, **conditions: object) -> Card:
    """A card of the account's own person (Mina sidor); anyone else's is 404."""
    my_person_id(user)
    return get_object_or_404(visibility.own_cards(user), pk=card_id, **conditions)


def managed_person(user: Any, person_id: int) -> Person:
    """A person the account's person manages (Mina medarbetare); anyone else is 404."""
    my_person_id(user)
    return get_object_or_404(visibility.managed_persons(user), pk=person_id)


def managed_card(user: Any, card_id: int) -> Card:
    """A card of a person the account's person manages; any other card is 404."""
    my_person_id(user)
    return get_object_or_404(visibility.managed_cards(user), pk=card_id)


class RoleRequiredMixin(AccessMixin):
    """Anonymous → the sign-in page; signed in without one of `roles` → 403."""

    roles: ClassVar[frozenset[Role]] = frozenset()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, *self.roles):
            raise PermissionDenied("Sidan kräver en behörighet som kontot saknar.")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
