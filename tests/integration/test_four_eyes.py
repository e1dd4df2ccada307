"""Four-eyes hand-out of reserve cards at assurance level 3 (E11, docs/domain-notes.md): one ID
administrator registers the card and the checked document, a second one approves. Whoever
registered, ordered or holds the card cannot approve it (E11, E3); every refusal writes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from ekort.domain.errors import Refused
from ekort.domain.four_eyes import (
    FourEyesStep,
    Registration,
    decide_four_eyes,
    needs_second_approval,
)
from ekort.domain.identifiers import IdentityKind
from ekort.domain.vocabulary import AssuranceLevel, CardType, CheckPurpose, Role
from ekort.services import audit, cards
from ekort.store.models import Card, Certificate, FourEyesApproval, IdentityCheck
from tests import factories
from tests import instants as t
from tests.integration.journeys import PASSPORT, sent
from tests.integration.test_card_services import (
    NEW,
    actor,
    assert_refused,
    colleague,
    grant,
    history,
    refreshed,
)
from tests.integration.test_concurrency_postgres import run_together

pytestmark = pytest.mark.django_db

REGISTERED = t.sthlm(2024, 1, 16, 9, 30)  # a Tuesday in the reserve-only weeks (R1)
APPROVED = t.sthlm(2024, 1, 16, 9, 35)


# --- the domain ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_type", "level", "two"),
    [
        (CardType.RESERVE, AssuranceLevel.LOA3, True),
        (CardType.RESERVE, AssuranceLevel.LOA2, False),
        (CardType.PHOTO, AssuranceLevel.LOA3, False),
        (CardType.PHOTO, AssuranceLevel.LOA2, False),
    ],
)
def test_only_a_reserve_card_at_loa3_needs_a_second_administrator(card_type, level, two):
    assert needs_second_approval(card_type, level) is two


WAITING = Registration(CheckPurpose.HAND_OUT, registered_by=7)


def test_the_registrar_is_not_the_approver():
    assert decide_four_eyes(FourEyesStep.APPROVE, WAITING, actor=8).allowed
    refused = decide_four_eyes(FourEyesStep.APPROVE, WAITING, actor=7)
    assert (refused.allowed, refused.rule) == (False, "E11")
    # Withdrawing is for the registrar too.
    assert decide_four_eyes(FourEyesStep.WITHDRAW, WAITING, actor=7).allowed


def test_four_eyes_is_not_for_a_samordningsnummer_holder():
    register = FourEyesStep.REGISTER
    assert decide_four_eyes(register, None, identity_kind=IdentityKind.PERSONNUMMER).allowed
    refused = decide_four_eyes(register, None, identity_kind=IdentityKind.SAMORDNINGSNUMMER)
    assert (refused.allowed, refused.rule) == (False, "E11")


def test_nothing_to_approve_or_withdraw_without_a_registration_of_that_kind():
    for step in (FourEyesStep.APPROVE, FourEyesStep.WITHDRAW):
        assert not decide_four_eyes(step, None, actor=8).allowed
    activation = decide_four_eyes(
        FourEyesStep.APPROVE, WAITING, purpose=CheckPurpose.ACTIVATION, actor=8
    )
    assert (activation.allowed, activation.rule) == (False, "E11")
    assert "activation" in activation.en


# --- registering -----------------------------------------------------------------------------


def reserve_card(w, *, person=None) -> Card:
    card = sent(w, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY, person=person)
    assert (card.state, card.assurance_level) == ("awaiting_pickup", "3")
    return card


def registered(w, *, by=None, document=PASSPORT, person=None) -> Card:
    card = reserve_card(w, person=person)
    return cards.hand_out(
        actor=by or w.id_admin, now=REGISTERED, documents={card.pk: document}
    ).one()


def pending(card: Card) -> FourEyesApproval:
    return FourEyesApproval.objects.get(card=card, outcome="")


def test_the_first_administrator_registers_and_the_card_waits(world):
    card = refreshed(registered(world))
    assert card.state == "awaiting_pickup"
    assert (card.activated_at, card.activated_by) == (None, None)
    approval = pending(card)
    assert (approval.registered_by, approval.registered_at) == (world.id_admin, REGISTERED)
    assert (approval.decided_by, approval.decided_at) == (None, None)
    check = approval.identity_check
    assert (check.card, check.purpose, check.document_kind, check.document_number) == (
        card,
        "hand_out",
        "passport",
        "AB1234567",
    )
    assert check.checked_by == world.id_admin
    # Certificates stay on hold until the second administrator approves.
    assert not Certificate.objects.filter(card=card, status="valid").exists()
    assert history(card)[-1] == "hand_out_registered"
    assert audit.verify_trail() == []


def test_the_second_administrator_approves_and_the_card_is_handed_out(world):
    card = registered(world)
    cards.approve_hand_out(actor=world.id_admin_2, now=APPROVED, card_ids=[card.pk]).one()
    card = refreshed(card)
    assert card.state == "active"
    assert (card.activated_at, card.activated_by) == (APPROVED, world.id_admin_2)
    approval = FourEyesApproval.objects.get(card=card)
    assert (approval.outcome, approval.decided_by, approval.decided_at) == (
        "approved",
        world.id_admin_2,
        APPROVED,
    )
    assert Certificate.objects.filter(card=card, status="valid").exists()
    assert not Certificate.objects.filter(card=card, status="on_hold").exists()
    assert history(card)[-2:] == ["hand_out_registered", "hand_out"]
    assert audit.verify_trail() == []


def test_a_second_registration_while_one_waits_is_refused(world):
    card = registered(world)
    assert_refused(
        "E11",
        lambda: cards.hand_out(
            actor=world.id_admin_2, now=APPROVED, documents={card.pk: PASSPORT}
        ).one(),
        card,
    )


def test_a_samordningsnummer_holder_gets_a_loa2_reserve_card_handed_out_by_one(world):
    # docs/domain-notes.md: four-eyes LoA3 reserve cards are not for samordningsnummer holders.
    # Ordering never makes one: the card gets assurance level 2, and one administrator hands it
    # out.
    holder = colleague(world)
    holder.identity_kind = IdentityKind.SAMORDNINGSNUMMER.value
    holder.save(update_fields=["identity_kind"])
    card = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY, person=holder)
    assert card.assurance_level == "2"
    cards.hand_out(actor=world.id_admin, now=REGISTERED, documents={card.pk: PASSPORT}).one()
    assert refreshed(card).state == "active"
    assert not FourEyesApproval.objects.exists()


def test_a_loa3_reserve_card_of_a_holder_now_on_a_samordningsnummer_is_refused(world):
    holder = colleague(world)
    card = reserve_card(world, person=holder)  # ordered while on a personnummer
    holder.identity_kind = IdentityKind.SAMORDNINGSNUMMER.value
    holder.save(update_fields=["identity_kind"])
    assert_refused(
        "E11",
        lambda: cards.hand_out(
            actor=world.id_admin, now=REGISTERED, documents={card.pk: PASSPORT}
        ).one(),
        card,
    )


def test_the_orderer_cannot_register_the_hand_out(world):
    grant(world.orderer, Role.ID_ADMIN)
    card = reserve_card(world)
    assert_refused(
        "E3",
        lambda: cards.hand_out(
            actor=world.orderer, now=REGISTERED, documents={card.pk: PASSPORT}
        ).one(),
        card,
    )


# --- approving: refusals ---------------------------------------------------------------------


def test_the_registrar_cannot_approve_her_own_registration(world):
    card = registered(world)
    error = assert_refused(
        "E11",
        lambda: cards.approve_hand_out(
            actor=world.id_admin, now=APPROVED, card_ids=[card.pk]
        ).one(),
        card,
    )
    assert "another ID administrator" in error.en


@pytest.mark.parametrize(
    ("who", "because"),
    [("orderer", "You ordered this card"), ("holder", "This is your own card")],
)
def test_whoever_ordered_or_holds_the_card_cannot_approve_it(world, who, because):
    card = registered(world)
    conflicted = getattr(world, who)
    grant(conflicted, Role.ID_ADMIN)
    error = assert_refused(
        "E3",
        lambda: cards.approve_hand_out(actor=conflicted, now=APPROVED, card_ids=[card.pk]).one(),
        card,
    )
    assert because in error.en


@pytest.mark.parametrize("name", ["issuer", "support", "orderer", "holder"])
def test_approval_needs_an_id_admin(world, name):
    card = registered(world)
    assert_refused(
        "E10",
        lambda: cards.approve_hand_out(
            actor=actor(world, name), now=APPROVED, card_ids=[card.pk]
        ).one(),
        card,
    )


@pytest.mark.parametrize("card_type", ["reserve", "photo"])
def test_nothing_to_approve_without_a_registration(world, card_type):
    if card_type == "photo":
        card = sent(world, "photo", t.LEGACY_COMPANY, t.LEGACY_COMPANY)
    else:
        card = reserve_card(world)
    assert_refused(
        "E11",
        lambda: cards.approve_hand_out(
            actor=world.id_admin_2, now=APPROVED, card_ids=[card.pk]
        ).one(),
        card,
    )


@pytest.mark.parametrize(
    ("now", "rule"),
    [
        (t.STOP_START, "R3"),  # the last day to collect was the 22nd
        (t.LAST_STOP_DAY_END, "R3"),
        (NEW, "R6"),  # cards are sent home now, not handed out
    ],
)
def test_no_approval_after_the_pickup_deadline(world, now, rule):
    card = registered(world)
    assert_refused(
        rule,
        lambda: cards.approve_hand_out(actor=world.id_admin_2, now=now, card_ids=[card.pk]).one(),
        card,
    )


def test_approval_on_the_last_pickup_day(world):
    card = registered(world)
    cards.approve_hand_out(
        actor=world.id_admin_2, now=t.LAST_PICKUP_DAY_END, card_ids=[card.pk]
    ).one()
    assert refreshed(card).state == "active"


def test_the_document_must_still_be_valid_on_the_day_of_approval(world):
    card = registered(world, document=replace(PASSPORT, expires_on=date(2024, 1, 16)))
    assert_refused(
        "E4",
        lambda: cards.approve_hand_out(
            actor=world.id_admin_2, now=t.sthlm(2024, 1, 17, 9), card_ids=[card.pk]
        ).one(),
        card,
    )


def test_an_approved_hand_out_is_not_approved_again(world):
    card = registered(world)
    cards.approve_hand_out(actor=world.id_admin_2, now=APPROVED, card_ids=[card.pk]).one()
    third = factories.staff("idadmin3", Role.ID_ADMIN)
    error = assert_refused(
        "E1",
        lambda: cards.approve_hand_out(actor=third, now=APPROVED, card_ids=[card.pk]).one(),
        card,
    )
    assert "already active" in error.en


def test_a_blocked_card_is_not_approved(world):
    card = registered(world)
    cards.block(
        actor=world.support, reason="lost", requested_by="Erik", now=APPROVED, card_ids=[card.pk]
    ).one()
    assert_refused(
        "E1",
        lambda: cards.approve_hand_out(
            actor=world.id_admin_2, now=APPROVED, card_ids=[card.pk]
        ).one(),
        card,
    )


# --- withdrawing -----------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["id_admin", "id_admin_2"], ids=["registrar", "another-admin"])
def test_a_wrong_registration_is_withdrawn_and_can_be_made_again(world, by):
    card = registered(world)
    cards.withdraw_hand_out(
        actor=actor(world, by), now=APPROVED, reason="fel handlingsnummer", card_ids=[card.pk]
    ).one()
    approval = FourEyesApproval.objects.get(card=card)
    assert (approval.outcome, approval.decided_by, approval.note) == (
        "withdrawn",
        actor(world, by),
        "fel handlingsnummer",
    )
    assert refreshed(card).state == "awaiting_pickup"
    assert history(card)[-1] == "hand_out_withdrawn"
    # The check stays on record; a new registration and an approval complete the hand-out.
    assert IdentityCheck.objects.filter(card=card).count() == 1
    cards.hand_out(actor=world.id_admin_2, now=APPROVED, documents={card.pk: PASSPORT}).one()
    cards.approve_hand_out(actor=world.id_admin, now=APPROVED, card_ids=[card.pk]).one()
    assert refreshed(card).state == "active"
    assert audit.verify_trail() == []


def test_nothing_to_withdraw_without_a_registration(world):
    card = reserve_card(world)
    assert_refused(
        "E11",
        lambda: cards.withdraw_hand_out(
            actor=world.id_admin, now=APPROVED, card_ids=[card.pk]
        ).one(),
        card,
    )


@pytest.mark.parametrize("name", ["issuer", "support", "orderer", "holder"])
def test_withdrawal_needs_an_id_admin(world, name):
    card = registered(world)
    assert_refused(
        "E10",
        lambda: cards.withdraw_hand_out(
            actor=actor(world, name), now=APPROVED, card_ids=[card.pk]
        ).one(),
        card,
    )


def test_a_withdrawn_registration_is_not_approved(world):
    card = registered(world)
    cards.withdraw_hand_out(actor=world.id_admin, now=APPROVED, card_ids=[card.pk]).one()
    assert_refused(
        "E11",
        lambda: cards.approve_hand_out(
            actor=world.id_admin_2, now=APPROVED, card_ids=[card.pk]
        ).one(),
        card,
    )


# --- two approvals at once -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_administrators_approve_at_once_and_one_succeeds(world):
    card = registered(world)
    third = factories.staff("idadmin3", Role.ID_ADMIN)
    results = run_together(
        lambda: cards.approve_hand_out(
            actor=world.id_admin_2, now=APPROVED, card_ids=[card.pk]
        ).one(),
        lambda: cards.approve_hand_out(actor=third, now=APPROVED, card_ids=[card.pk]).one(),
    )
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, Refused) and error.rule == "E1", error
    assert refreshed(card).state == "active"
    assert FourEyesApproval.objects.get(card=card).outcome == "approved"
    assert history(card).count("hand_out") == 1
    assert audit.verify_trail() == []
