"""Both delivery paths end to end, through the services, on the configured database."""

from __future__ import annotations

from datetime import date

import pytest

from ekort.domain.errors import Refused
from ekort.services import audit, cards
from ekort.store.models import Block, IdentityCheck, Letter
from tests import instants as t
from tests.integration.journeys import PASSPORT, ordered, sent

pytestmark = pytest.mark.django_db


def test_new_path_photo_card_sent_home_and_activated(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    assert card.state == "sent_inactive"
    assert card.generation == "portrait-2024"
    assert card.activation_deadline == date(2024, 4, 30)  # R8: sent 2024-01-31
    assert [letter.kind for letter in Letter.objects.filter(card=card)] == ["cover_letter"]

    card = cards.activate(
        actor=world.id_admin,
        now=t.sthlm(2024, 4, 30, 16),
        activations={card.pk: cards.Activation(PASSPORT, "402918")},
    ).one()
    assert card.state == "active"
    check = IdentityCheck.objects.get(card=card)
    assert (check.purpose, check.document_kind, check.document_number) == (
        "activation",
        "passport",
        "AB1234567",
    )
    assert audit.verify_trail() == []


def test_legacy_path_code_envelope_and_hand_out(world):
    card = sent(world, "photo", t.LEGACY_COMPANY, t.LEGACY_COMPANY)
    assert card.state == "awaiting_pickup"
    assert card.pickup_deadline == date(2024, 1, 22)  # R3
    assert card.generation == "legacy" and card.sis_marked is False  # R17: company card
    card = cards.hand_out(
        actor=world.id_admin, now=t.LAST_PICKUP_DAY, documents={card.pk: PASSPORT}
    ).one()
    assert card.state == "active"


def test_block_is_final_and_kept(world):
    card = sent(world, "reserve", t.NEW_PROCESS, t.NEW_PROCESS)
    cards.block(
        actor=world.support,
        reason="lost",
        requested_by="the holder",
        now=t.NEW_PROCESS,
        card_ids=[card.pk],
    ).one()
    assert Block.objects.get(card=card).reason == "lost"
    with pytest.raises(Refused) as refused:
        cards.block(
            actor=world.support,
            reason="stolen",
            requested_by="the holder",
            now=t.NEW_PROCESS,
            card_ids=[card.pk],
        ).one()
    assert refused.value.rule == "E9"


def test_order_refused_during_freeze_names_r4(world):
    with pytest.raises(Refused) as refused:
        ordered(world, "photo", t.DURING_FREEZE)
    assert refused.value.rule == "R4"
