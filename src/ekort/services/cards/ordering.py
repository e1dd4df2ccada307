"""Ordering a card, cancelling an order, and replacing a card."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.domain.identifiers import IdentityKind
from ekort.domain.lifecycle import LIVE_STATES, OCCUPYING_STATES, CardAction, CardState, next_state
from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.rulebook import rule
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import AssuranceLevel, BlockReason, CardType, Role
from ekort.store.models import Card, CardOrder, Person

from ..policy import current_calendar
from ..roles import person_id_of, require_role
from ._common import audit_card, locked_card, move, snapshot
from .blocking import register_block


def _require_manager(actor: Any, person: Person) -> None:
    require_role(actor, Role.ORDERER)
    if person.manager_id is None or person.manager_id != person_id_of(actor):
        e2 = rule("E2")
        raise Refused(
            "E2",
            f"{e2.sv} Du är inte registrerad som chef för {person.full_name}.",
            f"{e2.en} You are not recorded as {person.full_name}'s manager.",
        )


def _require_free_slot(person: Person, card_type: CardType, replacing: Card | None) -> None:
    live = Card.objects.filter(person=person, card_type=card_type, state__in=OCCUPYING_STATES)
    if replacing is not None:
        live = live.exclude(pk=replacing.pk)
    if live.exists():
        e8 = rule("E8")
        raise Refused(
            "E8",
            f"{e8.sv} Personen har redan ett {card_type.value}kort som är beställt eller giltigt; "
            "beställ ett ersättningskort i stället.",
            f"{e8.en} The person already has a {card_type.value} card ordered or in use; "
            "order a replacement instead.",
        )


def _assurance_level(person: Person) -> AssuranceLevel:
    # NOTES.md: samordningsnummer holders and persons without a registered address get LoA2.
    if person.identity_kind == IdentityKind.SAMORDNINGSNUMMER or not person.has_registered_address:
        return AssuranceLevel.LOA2
    return AssuranceLevel.LOA3


def _parse_card_type(value: object) -> CardType:
    try:
        return CardType(str(value))
    except ValueError:
        kinds = ", ".join(CardType)
        raise InvalidInput(f"Unknown card type {str(value)[:20]!r}; use one of {kinds}.") from None


def _create(
    actor: Any, person: Person, card_type: CardType, now: datetime, note: str, replaces: Card | None
) -> Card:
    order = CardOrder.objects.create(
        person=person,
        card_type=card_type,
        ordered_by=actor,
        ordered_at=now,
        replaces=replaces,
        note=note[:500],
    )
    card = Card.objects.create(
        order=order,
        person=person,
        card_type=card_type,
        assurance_level=_assurance_level(person),
    )
    audit_card(
        actor,
        "order",
        card,
        now,
        {},
        snapshot(card, "card_type", "assurance_level"),
        reason=note[:500],
    )
    return card


def order_card(
    *, actor: Any, person_id: int, card_type: object, now: datetime, note: str = ""
) -> Card:
    """A manager orders a photo or reserve card for a person (E2, R1-R4, E8)."""
    require_aware(now)
    kind = _parse_card_type(card_type)
    with transaction.atomic():
        # Locking the person settles two managers ordering at once (E8).
        person = Person.objects.select_for_update().filter(pk=person_id).first()
        if person is None:
            raise NotFound(f"There is no person with id {person_id}.")
        _require_manager(actor, person)
        current_calendar().decide(PolicyAction.ORDER, kind, now).require()
        _require_free_slot(person, kind, replacing=None)
        return _create(actor, person, kind, now, note, replaces=None)


def cancel_order(*, actor: Any, card_id: int, now: datetime, reason: str = "") -> Card:
    require_aware(now)
    with transaction.atomic():
        card = locked_card(card_id)
        _require_manager(actor, card.person)
        before = snapshot(card)
        move(card, CardAction.CANCEL)
        card.closed_at = now
        card.save(update_fields=["state", "closed_at"])
        audit_card(actor, "cancel", card, now, before, snapshot(card, "closed_at"), reason)
        return card


def replace_card(
    *, actor: Any, card_id: int, now: datetime, reason: object = "replaced", note: str = ""
) -> Card:
    """Order a new card in place of an old one. A live old card is blocked in the same
    transaction (reason as given, "replaced" by default); the new card links to the old one.
    An old card already blocked or expired keeps its state and its original block reason."""
    require_aware(now)
    try:
        block_reason = BlockReason(str(reason))
    except ValueError:
        raise InvalidInput(f"Unknown block reason {str(reason)[:30]!r}.") from None
    with transaction.atomic():
        old = locked_card(card_id)
        person = Person.objects.select_for_update().get(pk=old.person_id)
        _require_manager(actor, person)
        kind = CardType(old.card_type)
        current_calendar().decide(PolicyAction.ORDER, kind, now).require()
        if old.state in LIVE_STATES:  # a blocked or expired card keeps its state and reason
            register_block(
                actor,
                old,
                CardAction.REPLACE,
                block_reason,
                str(actor.get_username()),
                now,
                f"replaced: {note}",
            )
        else:
            next_state(CardState(old.state), CardAction.REPLACE)  # E1 for a card never issued
        _require_free_slot(person, kind, replacing=old)
        return _create(actor, person, kind, now, note or f"replaces card {old.number}", old)
