"""Who may see which persons and cards, and whose protected address: the one place that
decides it, for the API and the portal alike.

Staff (ID administrators, support, issuer administrators) see everyone; an orderer sees the
persons they manage and their cards; a holder sees themselves and their own cards. The address
of a person with protected personal data (skyddade personuppgifter) is shown only to staff who
hold the grant for it (`SEE_PROTECTED_ADDRESS`), and only where one person is shown: never in a
list, an export or a notice.

The API asks for everything an account may see (`visible_*`, `*_for`: something that exists but
is not the caller's is refused with E10, as the services refuse actions on it; an unknown id is
NotFound). The portal's pages each show one role's share (`own_cards`, `managed_*`), and answer
404 for anything outside it, so that a page does not tell whether an id exists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from ekort.domain.access import (
    SEE_CARD,
    SEE_PERSON,
    SEE_PROTECTED_ADDRESS,
    Relation,
    decide_access,
)
from ekort.domain.errors import NotFound
from ekort.domain.vocabulary import Role
from ekort.store.models import Card, Person

from .roles import grants_of, person_id_of, roles_of

STAFF = frozenset({Role.ID_ADMIN, Role.SUPPORT, Role.ISSUER_ADMIN})


def is_staff(actor: Any) -> bool:
    """Staff see every person and card, and identity numbers in full."""
    return bool(roles_of(actor) & STAFF)


def may_see_address(actor: Any, protected_identity: bool) -> bool:
    """On a page or in an answer about one person: a protected address only with the grant."""
    if not protected_identity:
        return True
    held, grants = roles_of(actor), grants_of(actor)
    return decide_access(SEE_PROTECTED_ADDRESS, held, grants=grants).allowed


# --- Everything an account may see (the API) -------------------------------------------------


def _person_filter(actor: Any, prefix: str) -> Q | None:
    """None: everything; otherwise the condition on the person (under `prefix`): what
    `SEE_PERSON` lets the account's roles see, as a query."""
    roles = roles_of(actor)
    relations: set[Relation] = set()
    for role in roles:
        relations |= SEE_PERSON.roles.get(role, frozenset())
    if Relation.OTHER in relations:
        return None
    condition = Q(pk__in=[])
    me = person_id_of(actor)
    if me is None:
        return condition
    if Relation.SELF in relations:
        condition |= Q(**{f"{prefix}pk": me})
    if Relation.MANAGER in relations:
        condition |= Q(**{f"{prefix}manager_id": me})
    return condition


def visible_persons(actor: Any) -> QuerySet[Person]:
    condition = _person_filter(actor, "")
    persons = Person.objects.all()
    return persons if condition is None else persons.filter(condition)


def visible_cards(actor: Any) -> QuerySet[Card]:
    condition = _person_filter(actor, "person__")
    cards = Card.objects.select_related("order", "order__ordered_by", "person")
    return cards if condition is None else cards.filter(condition)


def person_for(actor: Any, person_id: int) -> Person:
    person = visible_persons(actor).filter(pk=person_id).first()
    if person is None:
        if Person.objects.filter(pk=person_id).exists():
            decide_access(SEE_PERSON, roles_of(actor)).require()
        raise NotFound(f"There is no person with id {person_id}.")
    return person


def card_for(actor: Any, card_id: int) -> Card:
    card = visible_cards(actor).filter(pk=card_id).first()
    if card is None:
        if Card.objects.filter(pk=card_id).exists():
            decide_access(SEE_CARD, roles_of(actor)).require()
        raise NotFound(f"There is no card with id {card_id}.")
    return card


# --- One role's share (the portal's pages) ---------------------------------------------------


def own_cards(actor: Any) -> QuerySet[Card]:
    """Mina sidor: the cards of the person behind the account, whatever else it may see."""
    me = person_id_of(actor)
    return Card.objects.none() if me is None else Card.objects.filter(person_id=me)


def managed_persons(actor: Any) -> QuerySet[Person]:
    """Mina medarbetare: the persons the account's person manages."""
    me = person_id_of(actor)
    return Person.objects.none() if me is None else Person.objects.filter(manager_id=me)


def managed_cards(actor: Any) -> QuerySet[Card]:
    """Mina medarbetare: the cards of the persons the account's person manages."""
    me = person_id_of(actor)
    return Card.objects.none() if me is None else Card.objects.filter(person__manager_id=me)
