"""Four-eyes activation of reserve cards at assurance level 3 (E11, R7-R9): since 2024-01-25
cards are sent home inactive and activated at a card office, so this is where the second ID
administrator comes in. The first checks and records the identity document, and no PIN is set;
the second approves while the holder types the PIN, which goes to the chip last. Whoever
registered, ordered or holds the card cannot approve it (E11, E3); every refusal writes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from ekort.domain.errors import InvalidInput, Refused
from ekort.domain.identifiers import IdentityKind
from ekort.domain.vocabulary import Role
from ekort.services import audit, cards
from ekort.store.models import AuditEntry, Card, Certificate, FourEyesApproval, IdentityCheck
from tests import factories
from tests import instants as t
from tests.integration.journeys import PASSPORT, PIN, sent
from tests.integration.test_card_services import (
    RecordingChip,
    actor,
    assert_refused,
    assert_rejected,
    audit_text,
    colleague,
    grant,
    history,
    refreshed,
)
from tests.integration.test_concurrency_postgres import SlowChip, run_together

pytestmark = pytest.mark.django_db

SENT = t.NEW_PROCESS  # 2024-01-31: sent home inactive; to be activated by 2024-04-30 (R8)
REGISTERED = t.sthlm(2024, 2, 5, 9, 30)
APPROVED = t.sthlm(2024, 2, 5, 9, 35)


def reserve_card(w, *, person=None) -> Card:
    card = sent(w, "reserve", SENT, SENT, person=person)
    assert (card.state, card.assurance_level) == ("sent_inactive", "3")
    return card


def registered(w, *, by=None, document=PASSPORT, person=None, chip=None) -> Card:
    card = reserve_card(w, person=person)
    return cards.activate(
        actor=by or w.id_admin,
        now=REGISTERED,
        chip=chip,
        activations={card.pk: cards.Activation(document)},
    ).one()


def approve(w, card: Card, *, by=None, pin: object = PIN, now: datetime = APPROVED, chip=None):
    return lambda: cards.approve_activation(
        actor=w.id_admin_2 if by is None else by, now=now, chip=chip, pins={card.pk: pin}
    ).one()


def pending(card: Card) -> FourEyesApproval:
    return FourEyesApproval.objects.get(card=card, outcome="")


# --- registering -----------------------------------------------------------------------------


def test_the_first_administrator_registers_and_no_pin_is_set(world):
    chip = RecordingChip()
    card = refreshed(registered(world, chip=chip))
    assert card.state == "sent_inactive"
    assert (card.activated_at, card.activated_by) == (None, None)
    assert chip.calls == []  # the holder chooses the PIN at approval
    approval = pending(card)
    assert (approval.purpose, approval.registered_by, approval.registered_at) == (
        "activation",
        world.id_admin,
        REGISTERED,
    )
    check = approval.identity_check
    assert (check.purpose, check.document_kind, check.document_number, check.checked_by) == (
        "activation",
        "passport",
        "AB1234567",
        world.id_admin,
    )
    assert not Certificate.objects.filter(card=card, status="valid").exists()
    assert Certificate.objects.filter(card=card, status="on_hold").exists()
    assert history(card)[-1] == "activation_registered"
    assert audit.verify_trail() == []


def test_a_pin_given_at_registration_is_refused_and_nothing_is_written(world):
    card, chip = reserve_card(world), RecordingChip()
    error = assert_refused(
        "E11",
        lambda: cards.activate(
            actor=world.id_admin,
            now=REGISTERED,
            chip=chip,
            activations={card.pk: cards.Activation(PASSPORT, PIN)},
        ).one(),
        card,
    )
    assert "chosen when a second ID administrator approves" in error.en
    assert chip.calls == [] and not FourEyesApproval.objects.exists()
    assert not IdentityCheck.objects.exists()


def test_a_second_registration_while_one_waits_is_refused(world):
    card = registered(world)
    error = assert_refused(
        "E11",
        lambda: cards.activate(
            actor=world.id_admin_2, now=APPROVED, activations={card.pk: cards.Activation(PASSPORT)}
        ).one(),
        card,
    )
    assert "activation is already registered" in error.en


@pytest.mark.parametrize("name", ["issuer", "support", "orderer", "holder"])
def test_registration_needs_an_id_admin(world, name):
    card = reserve_card(world)
    assert_refused(
        "E10",
        lambda: cards.activate(
            actor=actor(world, name),
            now=REGISTERED,
            activations={card.pk: cards.Activation(PASSPORT)},
        ).one(),
        card,
    )


def test_the_orderer_cannot_register_the_activation(world):
    grant(world.orderer, Role.ID_ADMIN)
    card = reserve_card(world)
    assert_refused(
        "E3",
        lambda: cards.activate(
            actor=world.orderer, now=REGISTERED, activations={card.pk: cards.Activation(PASSPORT)}
        ).one(),
        card,
    )


def test_no_registration_after_the_activation_window(world):
    card = reserve_card(world)
    assert_refused(
        "R8",
        lambda: cards.activate(
            actor=world.id_admin,
            now=t.AFTER_ACTIVATION_WINDOW,
            activations={card.pk: cards.Activation(PASSPORT)},
        ).one(),
        card,
    )


def test_an_expired_document_is_not_registered(world):
    card = reserve_card(world)
    expired = replace(PASSPORT, expires_on=date(2024, 2, 4))
    assert_refused(
        "E4",
        lambda: cards.activate(
            actor=world.id_admin, now=REGISTERED, activations={card.pk: cards.Activation(expired)}
        ).one(),
        card,
    )


def test_a_loa3_reserve_card_of_a_holder_now_on_a_samordningsnummer_is_refused(world):
    holder = colleague(world)
    card = reserve_card(world, person=holder)  # ordered while on a personnummer
    holder.identity_kind = IdentityKind.SAMORDNINGSNUMMER.value
    holder.save(update_fields=["identity_kind"])
    assert_refused(
        "E11",
        lambda: cards.activate(
            actor=world.id_admin, now=REGISTERED, activations={card.pk: cards.Activation(PASSPORT)}
        ).one(),
        card,
    )


def test_a_photo_card_is_still_activated_by_one_administrator(world):
    card, chip = sent(world, "photo", SENT, SENT), RecordingChip()
    cards.activate(
        actor=world.id_admin,
        now=APPROVED,
        chip=chip,
        activations={card.pk: cards.Activation(PASSPORT, PIN)},
    ).one()
    assert refreshed(card).state == "active" and chip.calls == [("set_pin", card.number, PIN)]
    assert not FourEyesApproval.objects.exists()


# --- approving -------------------------------------------------------------------------------


def test_the_second_administrator_approves_while_the_holder_types_the_pin(world):
    card, chip = registered(world), RecordingChip()
    approve(world, card, chip=chip)()
    card = refreshed(card)
    assert card.state == "active"
    assert (card.activated_at, card.activated_by) == (APPROVED, world.id_admin_2)
    assert chip.calls == [("set_pin", card.number, PIN)]  # R9: the PIN goes to the chip
    approval = FourEyesApproval.objects.get(card=card)
    assert (approval.outcome, approval.decided_by, approval.decided_at) == (
        "approved",
        world.id_admin_2,
        APPROVED,
    )
    assert Certificate.objects.filter(card=card, status="valid").exists()
    assert not Certificate.objects.filter(card=card, status="on_hold").exists()
    assert history(card)[-2:] == ["activation_registered", "activate"]
    entry = AuditEntry.objects.order_by("seq").last()
    assert entry is not None
    assert (entry.action, entry.actor, entry.after["registered_by"]) == (
        "activate",
        "idadmin2",
        "idadmin",
    )
    assert entry.after["pin_set"] is True and entry.after["state"] == "active"
    assert PIN not in audit_text()
    assert audit.verify_trail() == []


def test_the_registrar_cannot_approve_her_own_registration(world):
    card, chip = registered(world), RecordingChip()
    error = assert_refused("E11", approve(world, card, by=world.id_admin, chip=chip), card)
    assert "another ID administrator" in error.en
    assert chip.calls == []


@pytest.mark.parametrize(
    ("who", "because"),
    [("orderer", "You ordered this card"), ("holder", "This is your own card")],
)
def test_whoever_ordered_or_holds_the_card_cannot_approve_it(world, who, because):
    card, chip = registered(world), RecordingChip()
    conflicted = getattr(world, who)
    grant(conflicted, Role.ID_ADMIN)
    error = assert_refused("E3", approve(world, card, by=conflicted, chip=chip), card)
    assert because in error.en and chip.calls == []


@pytest.mark.parametrize("name", ["issuer", "support", "orderer", "holder"])
def test_approval_needs_an_id_admin(world, name):
    card = registered(world)
    assert_refused("E10", approve(world, card, by=actor(world, name)), card)


def test_nothing_to_approve_without_a_registration(world):
    card, chip = reserve_card(world), RecordingChip()
    assert_refused("E11", approve(world, card, chip=chip), card)
    assert chip.calls == []


@pytest.mark.parametrize(
    "now", [t.AFTER_ACTIVATION_WINDOW, t.sthlm(2024, 7, 1, 10)], ids=["day-after", "months-after"]
)
def test_no_approval_after_the_activation_window(world, now):
    card, chip = registered(world), RecordingChip()
    refused = assert_refused("R8", approve(world, card, now=now, chip=chip), card)
    assert "2024-04-30" in refused.en and chip.calls == []


def test_approval_on_the_last_day_of_the_window(world):
    card = registered(world)
    approve(world, card, now=t.LAST_ACTIVATION_DAY_END)()
    assert refreshed(card).state == "active"


def test_the_document_must_still_be_valid_on_the_day_of_approval(world):
    card = registered(world, document=replace(PASSPORT, expires_on=date(2024, 2, 5)))
    chip = RecordingChip()
    later = t.sthlm(2024, 2, 6, 9)
    assert_refused("E4", approve(world, card, now=later, chip=chip), card)
    assert chip.calls == []


@pytest.mark.parametrize("pin", ["777777", "12345", "12a456", None])
def test_a_bad_pin_at_approval_changes_nothing(world, pin):
    card, chip = registered(world), RecordingChip()
    if pin == "777777":  # well formed but too easy to guess
        assert_refused("E6", approve(world, card, pin=pin, chip=chip), card)
    else:
        assert_rejected(InvalidInput, approve(world, card, pin=pin, chip=chip), card)
    assert chip.calls == [] and pending(card).outcome == ""


def test_an_approved_activation_is_not_approved_again(world):
    card = registered(world)
    approve(world, card)()
    third = factories.staff("idadmin3", Role.ID_ADMIN)
    error = assert_refused("E1", approve(world, card, by=third), card)
    assert "already active" in error.en


def test_a_blocked_card_is_not_approved(world):
    card = registered(world)
    cards.block(
        actor=world.support, reason="lost", requested_by="Erik", now=APPROVED, card_ids=[card.pk]
    ).one()
    assert_refused("E1", approve(world, card), card)


def test_a_registered_activation_is_not_approved_as_a_hand_out(world):
    card = registered(world)
    assert_refused(
        "R6",  # nothing is handed out since 25 January; and the card is not awaiting pick-up
        lambda: cards.approve_hand_out(
            actor=world.id_admin_2, now=APPROVED, card_ids=[card.pk]
        ).one(),
        card,
    )


def test_a_registered_hand_out_is_not_approved_as_an_activation(world):
    card = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    at = t.sthlm(2024, 1, 16, 9, 30)
    cards.hand_out(actor=world.id_admin, now=at, documents={card.pk: PASSPORT}).one()
    assert_refused("R7", approve(world, card, now=at), card)  # not activated before 25 January


# --- withdrawing -----------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["id_admin", "id_admin_2"], ids=["registrar", "another-admin"])
def test_a_wrong_registration_is_withdrawn_and_can_be_made_again(world, by):
    card = registered(world)
    cards.withdraw_hand_out(
        actor=actor(world, by), now=APPROVED, reason="fel handlingsnummer", card_ids=[card.pk]
    ).one()
    approval = FourEyesApproval.objects.get(card=card)
    assert (approval.purpose, approval.outcome, approval.note) == (
        "activation",
        "withdrawn",
        "fel handlingsnummer",
    )
    assert refreshed(card).state == "sent_inactive"
    assert history(card)[-1] == "activation_withdrawn"
    assert_refused("E11", approve(world, card), card)
    cards.activate(
        actor=world.id_admin_2, now=APPROVED, activations={card.pk: cards.Activation(PASSPORT)}
    ).one()
    approve(world, card, by=world.id_admin)()
    assert refreshed(card).state == "active"
    assert audit.verify_trail() == []


# --- two approvals at once -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_administrators_approve_at_once_and_one_succeeds(world):
    card = registered(world)
    third = factories.staff("idadmin3", Role.ID_ADMIN)
    chip = SlowChip()  # holds the lock a while, so that the second really waits
    results = run_together(
        approve(world, card, chip=chip),
        approve(world, card, by=third, chip=chip),
    )
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, Refused) and error.rule == "E1", error
    assert len(chip.calls) == 1  # the PIN was set once
    assert refreshed(card).state == "active"
    assert FourEyesApproval.objects.get(card=card).outcome == "approved"
    assert history(card).count("activate") == 1
    assert audit.verify_trail() == []
