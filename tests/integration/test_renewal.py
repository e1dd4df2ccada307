"""Replacement by reason and the renewal worklists (E12).

A lost, stolen or misused card is blocked when its replacement is ordered; for every other
reason the old card stays usable until the new one is activated, and that activation blocks it
(revocation reason superseded) in its own transaction, whichever way the card is activated. A
renewal is taken from 90 days before the old card's last day. The worklists show the cards that
end within 90 and 30 days with no renewal under way.

The cards here are activated on t.NEW_PROCESS (2024-01-31). The test CAs end on 2025-01-01
(tests/conftest.py), so each old card is made to end on 2024-11-30, as a card from 2019 would.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from importlib import resources

import pytest
from cryptography import x509

from ekort.domain.errors import InvalidInput
from ekort.domain.policy_calendar import DEFAULT_CALENDAR_FILE
from ekort.services import audit, cards, overview, renewals
from ekort.services.ca import status
from ekort.services.policy import current_calendar
from ekort.store.models import Account, Block, Card, CardOffice, Certificate, Person
from tests import factories
from tests import instants as t
from tests.integration.journeys import PASSPORT, PIN, activated, produced, sent
from tests.integration.test_card_services import (
    assert_refused,
    assert_rejected,
    history,
    refreshed,
)

pytestmark = pytest.mark.django_db

NEW = t.NEW_PROCESS
LAST_DAY = date(2024, 11, 30)  # the old cards' last valid day
# E12: a renewal can be ordered from 90 days before the last day, not 91.
RENEWAL_OPENS = t.sthlm(2024, 9, 1)  # LAST_DAY - 90 days, at midnight
LAST_MOMENT_BEFORE_RENEWAL = t.sthlm(2024, 8, 31, 23, 59, 59)  # LAST_DAY - 91 days
# The 30-day list: from LAST_DAY - 30 days.
THIRTY_DAYS_BEFORE = t.sthlm(2024, 10, 31)
THIRTY_ONE_DAYS_BEFORE_END = t.sthlm(2024, 10, 30, 23, 59, 59)
LAST_DAY_START = t.sthlm(2024, 11, 30)
DAMAGED_AT = t.sthlm(2024, 3, 11, 9)  # months before the last day
ACTIVATED_AT = t.sthlm(2024, 3, 20, 10)
DEFERRED = ["expiring", "damaged", "name_changed", "new_photo", "other"]
AT_ONCE = {"lost": "key_compromise", "stolen": "key_compromise", "key_compromise": "key_compromise"}


def _ending(card, day):
    """The card and its certificates end on `day` (the end of it, in Stockholm)."""
    Card.objects.filter(pk=card.pk).update(valid_until=day)
    end = t.sthlm(day.year, day.month, day.day, 23, 59, 59)
    Certificate.objects.filter(card_id=card.pk).update(not_after=end)
    return refreshed(card)


def _live_card(world, person=None):
    return _ending(activated(world, "photo", NEW, NEW, person=person), LAST_DAY)


def _renew(world, old, now, reason="expiring"):
    return cards.replace_card(actor=world.orderer, reason=reason, now=now, card_ids=[old.pk]).one()


def _activate(world, new, now):
    """The new card produced, sent home and activated by the world's ID administrator."""
    new = cards.photograph(actor=world.id_admin, now=now, photos={new.pk: b"\xff\xd8\xff"}).one()
    cards.produce(actor=world.issuer, now=now, card_ids=[new.pk]).one()
    cards.send(actor=world.issuer, now=now, card_ids=[new.pk]).one()
    later = now + timedelta(days=3)
    activation = {new.pk: cards.Activation(PASSPORT, PIN)}
    return cards.activate(actor=world.id_admin, now=later, activations=activation).one()


def _certificate_reasons(card):
    return sorted(
        (c.status, c.revocation_reason) for c in Certificate.objects.filter(card_id=card.pk)
    )


# --- replacement by reason ------------------------------------------------------------------


@pytest.mark.parametrize("reason", sorted(AT_ONCE))
def test_a_lost_stolen_or_misused_card_is_blocked_when_the_replacement_is_ordered(world, reason):
    old = _live_card(world)
    new = _renew(world, old, DAMAGED_AT, reason)
    old = refreshed(old)
    assert (old.state, old.closed_at) == ("blocked", DAMAGED_AT)
    assert Block.objects.get(card=old).reason == reason
    assert _certificate_reasons(old) == [("revoked", AT_ONCE[reason])]
    assert (new.state, new.order.replaces_id, new.order.replacement_reason) == (
        "ordered",
        old.pk,
        reason,
    )
    assert history(old)[-1] == "block"
    assert audit.verify_trail() == []


@pytest.mark.parametrize("reason", DEFERRED)
def test_for_any_other_reason_the_old_card_works_until_the_new_one_is_activated(world, reason):
    old = _live_card(world)
    at = RENEWAL_OPENS if reason == "expiring" else DAMAGED_AT
    new = _renew(world, old, at, reason)
    old = refreshed(old)
    assert (old.state, old.closed_at) == ("active", None)
    assert not Block.objects.filter(card=old).exists()
    assert _certificate_reasons(old) == [("valid", "")]
    assert history(old)[-1] == "activate"
    assert (new.order.replaces_id, new.order.replacement_reason) == (old.pk, reason)
    assert history(new) == ["order"]


def test_the_activation_of_a_renewal_blocks_the_old_card_in_its_transaction(
    world, django_capture_on_commit_callbacks
):
    old = _live_card(world)
    new = _renew(world, old, DAMAGED_AT, "damaged")
    with django_capture_on_commit_callbacks(execute=True):
        new = _activate(world, new, ACTIVATED_AT - timedelta(days=3))
    old = refreshed(old)
    assert (new.state, old.state, old.closed_at) == ("active", "blocked", ACTIVATED_AT)
    block = Block.objects.get(card=old)
    assert (block.reason, block.requested_by, block.registered_by, block.registered_at) == (
        "replaced",
        "chef",  # the manager who ordered the replacement asked for it
        world.id_admin,  # the activation registered it
        ACTIVATED_AT,
    )
    [cert] = Certificate.objects.filter(card=old)
    assert (cert.status, cert.revocation_reason, cert.revoked_at) == (
        "revoked",
        "superseded",
        ACTIVATED_AT,
    )
    # OCSP and the CRL say so.
    assert status.ocsp_status(cert)[2] == x509.ReasonFlags.superseded
    crl = x509.load_der_x509_crl(bytes(status.build_crl(cert.issuer, ACTIVATED_AT).der))
    entry = crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16))
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        == x509.ReasonFlags.superseded
    )
    assert history(old)[-1] == "block"
    assert audit.verify_trail() == []


def test_a_failed_activation_leaves_the_old_card_live(world):
    old = _live_card(world)
    new = _renew(world, old, DAMAGED_AT, "damaged")
    new = cards.photograph(actor=world.id_admin, now=DAMAGED_AT, photos={new.pk: b"\xff\xd8\xff"})
    cards.produce(actor=world.issuer, now=DAMAGED_AT, card_ids=new.done).one()
    cards.send(actor=world.issuer, now=DAMAGED_AT, card_ids=new.done).one()
    # A passport that ran out refuses the activation (E4): the old card works on.
    [new_id] = new.done
    expired = dataclasses.replace(PASSPORT, expires_on=date(2024, 3, 1))
    outcome = cards.activate(
        actor=world.id_admin,
        now=ACTIVATED_AT,
        activations={new_id: cards.Activation(expired, PIN)},
    )
    assert outcome.refused[new_id].rule == "E4"
    assert outcome.done == []
    assert refreshed(old).state == "active"
    assert not Block.objects.filter(card=old).exists()


def test_a_four_eyes_activation_blocks_the_old_card_when_the_second_administrator_approves(
    world,
):
    old = activated(world, "reserve", NEW, NEW)
    new = _renew(world, old, DAMAGED_AT, "damaged")
    cards.produce(actor=world.issuer, now=DAMAGED_AT, card_ids=[new.pk]).one()
    cards.send(actor=world.issuer, now=DAMAGED_AT, card_ids=[new.pk]).one()
    cards.activate(
        actor=world.id_admin, now=ACTIVATED_AT, activations={new.pk: cards.Activation(PASSPORT)}
    ).one()
    assert refreshed(old).state == "active"  # registered only: the old card still works
    cards.approve_activation(actor=world.id_admin_2, now=ACTIVATED_AT, pins={new.pk: PIN}).one()
    old = refreshed(old)
    assert (old.state, Block.objects.get(card=old).reason) == ("blocked", "replaced")
    assert Block.objects.get(card=old).registered_by == world.id_admin_2


def test_a_legacy_hand_out_of_the_replacement_blocks_the_old_card(world):
    ordered_at = t.LEGACY_COMPANY
    old = sent(world, "photo", ordered_at, ordered_at)
    handed = ordered_at + timedelta(days=1)
    cards.hand_out(actor=world.id_admin, now=handed, documents={old.pk: PASSPORT}).one()
    renewed = handed + timedelta(days=1)
    new_id = _renew(world, old, renewed, "name_changed").pk
    cards.photograph(actor=world.id_admin, now=renewed, photos={new_id: b"\xff\xd8\xff"}).one()
    cards.produce(actor=world.issuer, now=renewed, card_ids=[new_id]).one()
    cards.send(actor=world.issuer, now=renewed, card_ids=[new_id]).one()
    assert refreshed(old).state == "active"
    later = renewed + timedelta(days=5)
    cards.hand_out(actor=world.id_admin, now=later, documents={new_id: PASSPORT}).one()
    old = refreshed(old)
    assert (old.state, old.closed_at, Block.objects.get(card=old).reason) == (
        "blocked",
        later,
        "replaced",
    )


def test_a_renewal_lost_in_the_post_is_replaced_and_its_successor_retires_the_first_card(world):
    """E8 lets the lost renewal be replaced beside the old card still in use; the activation at
    the end of the chain blocks the first card too."""
    old = _live_card(world)
    renewal = _renew(world, old, RENEWAL_OPENS, "expiring")
    cards.photograph(actor=world.id_admin, now=RENEWAL_OPENS, photos={renewal.pk: b"\xff\xd8\xff"})
    cards.produce(actor=world.issuer, now=RENEWAL_OPENS, card_ids=[renewal.pk]).one()
    cards.send(actor=world.issuer, now=RENEWAL_OPENS, card_ids=[renewal.pk]).one()
    second = _renew(world, renewal, RENEWAL_OPENS + timedelta(days=7), "lost")
    assert refreshed(renewal).state == "blocked"
    assert refreshed(old).state == "active"
    _activate(world, second, RENEWAL_OPENS + timedelta(days=8))
    old = refreshed(old)
    assert (old.state, Block.objects.get(card=old).reason) == ("blocked", "replaced")
    assert Block.objects.get(card=refreshed(renewal)).reason == "lost"  # the first block stands


def test_one_renewal_at_a_time_and_no_new_order_beside_it(world):
    old = _live_card(world)
    _renew(world, old, RENEWAL_OPENS)
    assert_refused("E8", lambda: _renew(world, old, RENEWAL_OPENS, "damaged"), old)
    assert_refused(
        "E8",
        lambda: cards.order_cards(
            actor=world.orderer,
            now=RENEWAL_OPENS,
            orders=[cards.NewOrder(world.employee.pk, "photo")],
        ).one(),
    )


# --- the renewal window (90 days by default) ------------------------------------------------


def test_a_renewal_91_days_before_the_last_day_is_refused_and_changes_nothing(world):
    old = _live_card(world)
    assert_refused("E12", lambda: _renew(world, old, LAST_MOMENT_BEFORE_RENEWAL), old)
    assert refreshed(old).state == "active"
    assert not Card.objects.filter(order__replaces=old).exists()


def test_a_renewal_90_days_before_the_last_day_is_taken(world):
    old = _live_card(world)
    new = _renew(world, old, RENEWAL_OPENS)
    assert new.order.replaces_id == old.pk
    assert refreshed(old).state == "active"


def test_a_certificate_that_ends_first_opens_the_renewal_earlier(world):
    old = _live_card(world)
    Certificate.objects.filter(card=old).update(not_after=t.sthlm(2024, 10, 15, 23, 59, 59))
    # 90 days before the certificate's last day, 2024-10-15; the card's own opens 2024-09-01.
    assert_refused("E12", lambda: _renew(world, old, t.sthlm(2024, 7, 16, 23)), old)
    assert _renew(world, old, t.sthlm(2024, 7, 17)).order.replaces_id == old.pk


def test_the_window_is_the_calendars(world, settings, tmp_path):
    shipped = resources.files("ekort.domain").joinpath("data", DEFAULT_CALENDAR_FILE)
    source = shipped.read_text(encoding="utf-8").replace(
        "renewal_days_before_expiry = 90", "renewal_days_before_expiry = 120"
    )
    path = tmp_path / "calendar.toml"
    path.write_text(source, encoding="utf-8")
    settings.EKORT_POLICY_CALENDAR = str(path)
    current_calendar.cache_clear()
    try:
        old = _live_card(world)
        assert _renew(world, old, LAST_MOMENT_BEFORE_RENEWAL).order.replaces_id == old.pk
    finally:
        current_calendar.cache_clear()


@pytest.mark.parametrize("reason", ["bored", "replaced", "", "lost\n"])
def test_an_unknown_reason_is_refused_and_changes_nothing(world, reason):
    old = _live_card(world)
    assert_rejected(InvalidInput, lambda: _renew(world, old, RENEWAL_OPENS, reason), old)
    assert refreshed(old).state == "active"


# --- worklists ------------------------------------------------------------------------------


def _numbers(rows):
    return [row.number for row in rows]


def test_the_worklists_at_their_boundaries(world):
    card = _live_card(world)
    on = {
        LAST_MOMENT_BEFORE_RENEWAL: ([], []),
        RENEWAL_OPENS: ([card.number], []),
        THIRTY_ONE_DAYS_BEFORE_END: ([card.number], []),
        THIRTY_DAYS_BEFORE: ([card.number], [card.number]),
    }
    for now, (ninety, thirty) in on.items():
        assert _numbers(renewals.worklist(world.support, now, 90)) == ninety, now
        assert _numbers(renewals.worklist(world.support, now, 30)) == thirty, now
    [row] = renewals.worklist(world.support, THIRTY_DAYS_BEFORE, 30)
    assert (row.ends_on, row.days_left, row.holder, row.manager) == (
        LAST_DAY,
        30,
        "Erik Eriksson",
        "Maria Chef",
    )


def test_a_renewal_under_way_takes_the_card_off_the_worklist(world):
    card = _live_card(world)
    new = _renew(world, card, RENEWAL_OPENS)
    assert renewals.worklist(world.support, RENEWAL_OPENS, 90) == []
    # The holder still sees it, with the renewal under way.
    [mine] = renewals.holders_own(world.employee.pk, RENEWAL_OPENS)
    assert (mine.number, mine.renewal_under_way) == (card.number, True)
    cards.cancel_order(actor=world.orderer, now=RENEWAL_OPENS, card_ids=[new.pk]).one()
    assert _numbers(renewals.worklist(world.support, RENEWAL_OPENS, 90)) == [card.number]


def test_a_certificate_that_ends_first_puts_the_card_on_the_list(world):
    card = _live_card(world)
    Certificate.objects.filter(card=card).update(not_after=t.sthlm(2024, 8, 15, 23, 59, 59))
    [row] = renewals.worklist(world.support, t.sthlm(2024, 6, 1), 90)
    assert (row.certificate_ends, row.valid_until, row.ends_on) == (
        date(2024, 8, 15),
        LAST_DAY,
        date(2024, 8, 15),
    )


def test_who_sees_which_cards_on_the_worklist(world):
    mine = _live_card(world)  # activated by world.id_admin
    other_manager = factories.person(given="Olle", family="Annan")
    stranger = factories.person(manager=world.manager)
    other = _live_card(world, stranger)
    Person.objects.filter(pk=stranger.pk).update(manager=other_manager)  # moved since
    Card.objects.filter(pk=other.pk).update(activated_by=world.id_admin_2)
    office = CardOffice.objects.create(
        name="Kortkontoret", town="Gävle", street_address="Gatan 1", postal_code="80187"
    )
    Account.objects.filter(user=world.id_admin).update(office=office)
    world.id_admin.refresh_from_db()

    def seen(actor):
        return sorted(_numbers(renewals.worklist(actor, RENEWAL_OPENS, 90)))

    assert seen(world.support) == sorted([mine.number, other.number])
    assert seen(world.orderer) == [mine.number]  # her own staff
    assert seen(world.id_admin) == [mine.number]  # activated at her office
    assert seen(world.id_admin_2) == []  # no office recorded
    assert_refused("E10", lambda: renewals.worklist(world.holder, RENEWAL_OPENS, 90))
    assert_refused("E10", lambda: renewals.worklist(world.issuer, RENEWAL_OPENS, 90))
    with pytest.raises(InvalidInput):
        renewals.worklist(world.support, RENEWAL_OPENS, 45)


def test_the_overview_counts_the_cards_due(world):
    _live_card(world)
    soon = _live_card(world, factories.person(manager=world.manager))
    Certificate.objects.filter(card=soon).update(not_after=t.sthlm(2024, 9, 20, 12))
    # Produced, not sent yet: a live card too, with the same last day as the first.
    waiting = produced(world, "photo", NEW, NEW, person=factories.person(manager=world.manager))
    _ending(waiting, LAST_DAY)
    counts = overview.overview(RENEWAL_OPENS).renewals
    assert counts.within == {90: 3, 30: 1}
    assert overview.overview(LAST_MOMENT_BEFORE_RENEWAL).renewals.within == {90: 1, 30: 1}


def test_blocked_and_expired_cards_are_not_due(world):
    card = _live_card(world)
    cards.block(
        actor=world.support,
        card_ids=[card.pk],
        reason="lost",
        requested_by="Erik",
        now=RENEWAL_OPENS,
    ).one()
    assert renewals.worklist(world.support, RENEWAL_OPENS, 90) == []
    other = _live_card(world, factories.person(manager=world.manager))
    Card.objects.filter(pk=other.pk).update(state="expired")
    assert renewals.worklist(world.support, LAST_DAY_START, 90) == []


# --- the API ---------------------------------------------------------------------------------


def test_the_api_lists_the_cards_due_and_refuses_an_unconfirmed_block(world, client, settings):
    from ekort.services import clock, tokens

    card = _live_card(world)
    settings.EKORT_SIMULATED_NOW = RENEWAL_OPENS.isoformat()
    clock.reset()
    try:
        token = tokens.issue_token(actor=world.orderer, name="t", now=RENEWAL_OPENS)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        listed = client.get("/api/v1/renewals", {"days": 90}, **headers)
        assert listed.status_code == 200
        [row] = listed.json()
        assert (row["card_number"], row["ends_on"], row["days_left"]) == (
            card.number,
            "2024-11-30",
            90,
        )
        assert client.get("/api/v1/renewals", {"days": 30}, **headers).json() == []
        assert client.get("/api/v1/renewals", {"days": 45}, **headers).status_code == 422
        url = f"/api/v1/cards/{card.pk}/replace"
        unconfirmed = client.post(
            url, {"reason": "stolen"}, content_type="application/json", **headers
        )
        assert unconfirmed.status_code == 422
        assert refreshed(card).state == "active"
        renewed = client.post(
            url, {"reason": "expiring"}, content_type="application/json", **headers
        )
        assert renewed.status_code == 201 and refreshed(card).state == "active"
        assert client.get("/api/v1/renewals", {"days": 90}, **headers).json() == []
    finally:
        settings.EKORT_SIMULATED_NOW = ""
        clock.reset()


# --- the command -----------------------------------------------------------------------------


def test_the_command_lists_and_orders_only_when_told(world):
    from io import StringIO

    from django.core.management import call_command

    card = _live_card(world)
    out = StringIO()
    call_command("renewals", "list", "--actor", "support", "--at", "2024-09-01", stdout=out)
    assert card.number in out.getvalue() and "1 card(s) end within 90 days" in out.getvalue()
    out = StringIO()
    call_command("renewals", "order", "--actor", "chef", "--at", "2024-09-01", stdout=out)
    said = out.getvalue()
    assert "The old card works until the new card is activated" in said
    assert "Nothing ordered. Run again with --yes" in said
    assert not Card.objects.filter(order__replaces=card).exists()
    out = StringIO()
    call_command("renewals", "order", "--actor", "chef", "--at", "2024-09-01", "--yes", stdout=out)
    assert "Done: 1 renewal(s) ordered, 0 refused." in out.getvalue()
    assert refreshed(card).state == "active"
    assert Card.objects.get(order__replaces=card).order.replacement_reason == "expiring"
