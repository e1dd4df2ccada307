"""Walk a card along its lifecycle through the services, as the people would."""

from __future__ import annotations

from datetime import date, datetime

from ekort.domain.four_eyes import needs_second_approval
from ekort.domain.vocabulary import AssuranceLevel, CardType
from ekort.services import cards
from ekort.store.models import Card, Person
from tests.factories import World

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PASSPORT = cards.DocumentShown(kind="passport", number="AB1234567", expires_on=date(2030, 1, 1))
# The PIN the holders in these journeys choose at activation (R9).
PIN = "402918"


def ordered(w: World, card_type: str, now: datetime, *, person: Person | None = None) -> Card:
    """Ordered by the world's manager, for her employee unless another person she manages."""
    holder = w.employee if person is None else person
    return cards.order_cards(
        actor=w.orderer, now=now, orders=[cards.NewOrder(holder.pk, card_type)]
    ).one()


def photographed(
    w: World, ordered_at: datetime, photographed_at: datetime, *, person: Person | None = None
) -> Card:
    card = ordered(w, "photo", ordered_at, person=person)
    return cards.photograph(actor=w.id_admin, now=photographed_at, photos={card.pk: JPEG}).one()


def produced(
    w: World,
    card_type: str,
    ordered_at: datetime,
    produced_at: datetime,
    *,
    person: Person | None = None,
) -> Card:
    card = ordered(w, card_type, ordered_at, person=person)
    if card_type == "photo":
        cards.photograph(actor=w.id_admin, now=produced_at, photos={card.pk: JPEG}).one()
    return cards.produce(actor=w.issuer, now=produced_at, card_ids=[card.pk]).one()


def sent(
    w: World,
    card_type: str,
    ordered_at: datetime,
    sent_at: datetime,
    *,
    person: Person | None = None,
) -> Card:
    card = produced(w, card_type, ordered_at, sent_at, person=person)
    return cards.send(actor=w.issuer, now=sent_at, card_ids=[card.pk]).one()


def activated(
    w: World,
    card_type: str,
    sent_at: datetime,
    activated_at: datetime,
    *,
    person: Person | None = None,
) -> Card:
    """New path: ordered, produced and sent home at `sent_at`, activated by an ID admin.
    A reserve card at assurance level 3 takes two ID administrators (E11): the world's first
    registers the activation, the second approves it while the holder types the PIN."""
    card = sent(w, card_type, sent_at, sent_at, person=person)
    if needs_second_approval(CardType(card.card_type), AssuranceLevel(card.assurance_level)):
        cards.activate(
            actor=w.id_admin, now=activated_at, activations={card.pk: cards.Activation(PASSPORT)}
        ).one()
        return cards.approve_activation(
            actor=w.id_admin_2, now=activated_at, pins={card.pk: PIN}
        ).one()
    return cards.activate(
        actor=w.id_admin, now=activated_at, activations={card.pk: cards.Activation(PASSPORT, PIN)}
    ).one()


def handed_out(
    w: World,
    card_type: str,
    sent_at: datetime,
    handed_out_at: datetime,
    *,
    person: Person | None = None,
) -> Card:
    """Legacy path: ordered, produced and sent a code envelope at `sent_at`, then collected.
    A reserve card at assurance level 3 takes two ID administrators (E11): the world's first
    registers the hand-out, the second approves it."""
    card = sent(w, card_type, sent_at, sent_at, person=person)
    card = cards.hand_out(actor=w.id_admin, now=handed_out_at, documents={card.pk: PASSPORT}).one()
    if card.state == "awaiting_pickup":
        card = cards.approve_hand_out(
            actor=w.id_admin_2, now=handed_out_at, card_ids=[card.pk]
        ).one()
    return card
