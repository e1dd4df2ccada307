"""Who may see which persons and cards, and how they are shown.

Staff (ID administrators, support, issuer administrators) see everyone; an orderer sees the
persons they manage and their cards; a holder sees themselves and their own cards. Asking for
something that exists but is not yours is refused with E10 (403), as the services refuse
actions on it; asking for an id that does not exist is 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from ekort.domain.errors import NotFound, Refused
from ekort.domain.identifiers import mask_identity_number
from ekort.domain.rulebook import rule
from ekort.domain.vocabulary import Role
from ekort.services.access import person_id_of, roles_of
from ekort.store.models import Block, Card, Letter, Person

STAFF = frozenset({Role.ID_ADMIN, Role.SUPPORT, Role.ISSUER_ADMIN})


def is_staff(actor: Any) -> bool:
    return bool(roles_of(actor) & STAFF)


def _refuse(what: str) -> Refused:
    e10 = rule("E10")
    return Refused(
        "E10",
        f"{e10.sv} Du får inte se {'personen' if what == 'person' else 'kortet'}.",
        f"{e10.en} You may see only yourself, the persons you manage and their cards.",
    )


def _person_filter(actor: Any, prefix: str) -> Q | None:
    """None: everything; otherwise the condition on the person (under `prefix`)."""
    roles = roles_of(actor)
    if roles & STAFF:
        return None
    me = person_id_of(actor)
    if me is None:
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    if Role.HOLDER in roles or Role.ORDERER in roles:
        condition |= Q(**{f"{prefix}pk": me})
    if Role.ORDERER in roles:
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
            raise _refuse("person")
        raise NotFound(f"There is no person with id {person_id}.")
    return person


def card_for(actor: Any, card_id: int) -> Card:
    card = visible_cards(actor).filter(pk=card_id).first()
    if card is None:
        if Card.objects.filter(pk=card_id).exists():
            raise _refuse("card")
        raise NotFound(f"There is no card with id {card_id}.")
    return card


def masked(identity_number: str) -> str:
    return mask_identity_number(identity_number)


def person_out(actor: Any, person: Person) -> dict[str, Any]:
    staff = is_staff(actor)
    address = None
    if staff or not person.protected_identity:
        address = {
            "street_address": person.street_address,
            "postal_code": person.postal_code,
            "postal_town": person.postal_town,
        }
    return {
        "id": person.pk,
        "identity_number": person.identity_number if staff else masked(person.identity_number),
        "identity_kind": person.identity_kind,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "hsa_id": person.hsa_id,
        "unit_id": person.unit_id,
        "manager_id": person.manager_id,
        "protected_identity": person.protected_identity,
        "address": address,
    }


def block_out(block: Block) -> dict[str, Any]:
    return {
        "card_id": block.card_id,
        "reason": block.reason,
        "requested_by": block.requested_by,
        "registered_by": block.registered_by.get_username() if block.registered_by else None,
        "registered_at": block.registered_at,
        "note": block.note,
    }


def card_out(card: Card) -> dict[str, Any]:
    block = Block.objects.select_related("registered_by").filter(card_id=card.pk).first()
    order = card.order
    return {
        "id": card.pk,
        "person_id": card.person_id,
        "card_type": card.card_type,
        "state": card.state,
        "assurance_level": card.assurance_level,
        "number": card.number,
        "generation": card.generation,
        "sis_marked": card.sis_marked,
        "ordered_at": order.ordered_at,
        "ordered_by": order.ordered_by.get_username(),
        "replaces_card_id": order.replaces_id,
        "photographed_at": card.photographed_at,
        "produced_at": card.produced_at,
        "valid_until": card.valid_until,
        "delivery_path": card.delivery_path,
        "sent_at": card.sent_at,
        "pickup_deadline": card.pickup_deadline,
        "activation_deadline": card.activation_deadline,
        "activated_at": card.activated_at,
        "closed_at": card.closed_at,
        "block": None if block is None else block_out(block),
    }


def letter_ref_out(letter: Letter) -> dict[str, Any]:
    return {
        "id": letter.pk,
        "kind": letter.kind,
        "card_id": letter.card_id,
        "queued_at": letter.queued_at,
    }


def letter_out(letter: Letter) -> dict[str, Any]:
    return {
        **letter_ref_out(letter),
        "person_id": letter.person_id,
        "recipient_name": letter.recipient_name,
        "street_address": letter.street_address,
        "postal_code": letter.postal_code,
        "postal_town": letter.postal_town,
        "printed_at": letter.printed_at,
    }
