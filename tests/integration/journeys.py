"""Walk a card along its lifecycle through the services, as the people would."""

from __future__ import annotations

from datetime import date, datetime

from ekort.services import cards
from ekort.store.models import Card
from tests.factories import World

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PASSPORT = cards.DocumentShown(kind="passport", number="AB1234567", expires_on=date(2030, 1, 1))


def ordered(w: World, card_type: str, now: datetime) -> Card:
    return cards.order_card(actor=w.orderer, person_id=w.employee.pk, card_type=card_type,
                            now=now)


def produced(w: World, card_type: str, ordered_at: datetime, produced_at: datetime) -> Card:
    card = ordered(w, card_type, ordered_at)
    if card_type == "photo":
        cards.photograph(actor=w.id_admin, card_id=card.pk, photo=JPEG, now=produced_at)
    return cards.produce(actor=w.issuer, card_id=card.pk, now=produced_at)


def sent(w: World, card_type: str, ordered_at: datetime, sent_at: datetime) -> Card:
    card = produced(w, card_type, ordered_at, sent_at)
    return cards.send(actor=w.issuer, card_id=card.pk, now=sent_at)
