"""The support desk's services: one search for every identifier and names, the history read
from the audit trail, re-sending a letter (each branch), and the overview's counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.domain.vocabulary import Role
from ekort.services import cards, history, overview, print_queue, search
from ekort.store.models import AuditEntry, Card, Letter, Person
from tests import factories
from tests import instants as t
from tests.factories import World
from tests.integration import journeys

pytestmark = pytest.mark.django_db

NOW = t.sthlm(2024, 2, 6, 10)


# --- search ----------------------------------------------------------------------------------


def test_search_by_each_identifier_and_by_name(world: World):
    card = journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    erik = world.employee
    number = erik.identity_number
    assert card.number is not None
    for typed in (
        number,
        f"{number[:8]}-{number[8:]}",
        f"{number[2:8]}-{number[8:]}",  # the 10-digit form
        erik.hsa_id,
        card.number,
        " ".join([card.number[:6], card.number[6:]]),
        "erik",
        "Eriksson Erik",
        "eri eri",
    ):
        assert search.find_persons(typed, now=NOW) == [erik], typed


def test_a_name_may_find_several_and_names_that_start_with_se_are_names(world: World):
    sebastian = factories.person(given="Sebastian", family="Eriksson")
    assert search.kind_of("Sebastian") is search.QueryKind.NAME
    assert search.kind_of("SE2321000198-abc") is search.QueryKind.HSA_ID
    found = search.find_persons("eriksson", now=NOW)
    assert found == [world.employee, sebastian]  # by family name, then given name
    assert search.find_persons("Sebastian", now=NOW) == [sebastian]


@pytest.mark.parametrize("typed", ["19991231-9999", "SE12-", "9752210000000000", "x", "", "  "])
def test_bad_identifiers_are_invalid_input(world: World, typed: str):
    with pytest.raises(InvalidInput):
        search.find_persons(typed, now=NOW)


def test_find_person_takes_identifiers_only_and_respects_within(world: World):
    with pytest.raises(InvalidInput):
        search.find_person("Erik", now=NOW)
    assert search.find_person(world.employee.hsa_id, now=NOW) == world.employee
    nobody = Person.objects.none()
    matching = search.persons_matching(world.employee.hsa_id, now=NOW, within=nobody)
    assert list(matching) == []


# --- history ---------------------------------------------------------------------------------


def test_history_holds_the_persons_cards_and_letters_newest_first(world: World):
    photo = journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    letter = photo.letters.get()
    print_queue.mark_printed(actor=world.issuer, letter_ids=[letter.pk], now=t.sthlm(2024, 2, 2))
    cards.block(
        actor=world.support, reason="lost", requested_by="Erik", now=NOW, card_ids=[photo.pk]
    ).one()
    karin = factories.person(given="Karin", family="Kollega", manager=world.manager)
    other = journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=karin)

    entries = history.person_history(world.employee.pk)
    actions = [e.action for e in entries]
    assert actions == [
        "block",
        "letter_printed",
        "activate",
        "send",
        "produce",
        "photograph",
        "order",
    ]
    assert [e.seq for e in entries] == sorted((e.seq for e in entries), reverse=True)
    assert all(e.object_id != str(other.pk) or e.object_type != "card" for e in entries)
    assert [e.action for e in history.card_history(photo.pk)] == actions


# --- re-sending a letter ---------------------------------------------------------------------


def _resend_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="resend_letter").order_by("seq"))


def test_a_cover_letter_is_queued_again_to_the_current_address(world: World):
    card = journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    old = card.letters.get(kind="cover_letter")
    print_queue.mark_printed(actor=world.issuer, letter_ids=[old.pk], now=t.NEW_PROCESS)
    Person.objects.filter(pk=world.employee.pk).update(
        street_address="Nya vägen 7", postal_code="80251", postal_town="Gävle"
    )
    new = print_queue.resend_letter(actor=world.support, letter_id=old.pk, now=NOW)
    assert new.pk != old.pk and new.kind == "cover_letter" and new.card_id == card.pk
    assert (new.street_address, new.postal_code, new.queued_at) == ("Nya vägen 7", "80251", NOW)
    assert new.printed_at is None
    assert Letter.objects.get(pk=old.pk).street_address == "Storgatan 1"  # the old one kept
    (entry,) = _resend_entries()
    assert (entry.object_type, entry.object_id, entry.actor) == ("card", str(card.pk), "support")
    assert entry.after["letter_id"] == new.pk and entry.after["resent_letter_id"] == old.pk


def test_a_cover_letter_for_an_activated_card_is_refused_with_r10(world: World):
    card = journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    old = card.letters.get(kind="cover_letter")
    with pytest.raises(Refused) as refused:
        print_queue.resend_letter(actor=world.issuer, letter_id=old.pk, now=NOW)
    assert refused.value.rule == "R10"
    assert Letter.objects.filter(card=card).count() == 1 and not _resend_entries()


def test_a_pin_puk_letter_is_ordered_anew_without_any_code_in_the_trail(world: World):
    card = journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    first = cards.order_pin_letter(actor=world.holder, now=NOW, card_ids=[card.pk]).one_made()
    print_queue.mark_printed(actor=world.issuer, letter_ids=[first.pk], now=NOW)
    later = NOW + timedelta(days=3)
    for actor in (world.support, world.issuer):
        new = print_queue.resend_letter(actor=actor, letter_id=first.pk, now=later)
        assert new.kind == "pin_puk_letter" and new.pk != first.pk and new.printed_at is None
        Letter.objects.filter(pk=new.pk).update(printed_at=later)  # one at a time in the queue
    assert Card.objects.get(pk=card.pk).state == "active"
    entries = _resend_entries()
    assert [e.actor for e in entries] == ["support", "utgivare"]
    assert all(e.after["kind"] == "pin_puk_letter" for e in entries)
    text = json.dumps([[e.before, e.after, e.reason] for e in entries]).lower()
    assert "puk_ciphertext" not in text and 'pin":' not in text


def test_a_letter_still_in_the_print_queue_is_not_sent_again(world: World):
    """Refused by the letter's own rule: R10 for a cover letter, R14 for a new-generation photo
    card's PIN/PUK letter, R15 for an older card's; nothing is queued or audited."""
    sent_card = journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    cover = sent_card.letters.get(kind="cover_letter")
    karin = factories.person(given="Karin", family="Kollega", manager=world.manager)
    active = journeys.activated(
        world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=karin
    )
    pin_letter = cards.order_pin_letter(
        actor=world.support, now=NOW, card_ids=[active.pk]
    ).one_made()
    second = cards.order_pin_letter(actor=world.id_admin, now=NOW, card_ids=[active.pk])
    assert second.refused[active.pk].rule == "R14"  # the first still waits
    # A printed letter is not sent again while another PIN/PUK letter of the card waits.
    older = Letter.objects.create(
        kind="pin_puk_letter",
        card=active,
        person=karin,
        recipient_name="Karin Kollega",
        street_address="Storgatan 1",
        postal_code="80320",
        postal_town="Gävle",
        queued_at=t.NEW_PROCESS,
        printed_at=t.NEW_PROCESS,
    )
    before = Letter.objects.count()
    for letter, rule_id in ((cover, "R10"), (pin_letter, "R14"), (older, "R14")):
        with pytest.raises(Refused) as refused:
            print_queue.resend_letter(actor=world.support, letter_id=letter.pk, now=NOW)
        assert refused.value.rule == rule_id
        assert refused.value.sv == (
            "Brevet ligger redan i utskriftskön och har inte skrivits ut än."
        )
        assert "print queue" in refused.value.en
    Card.objects.filter(pk=active.pk).update(generation="legacy")
    with pytest.raises(Refused) as refused:
        print_queue.resend_letter(actor=world.issuer, letter_id=pin_letter.pk, now=NOW)
    assert refused.value.rule == "R15"
    assert Letter.objects.count() == before and not _resend_entries()
    # Once printed, the letter may be sent again.
    print_queue.mark_printed(actor=world.issuer, letter_ids=[cover.pk], now=NOW)
    again = print_queue.resend_letter(actor=world.support, letter_id=cover.pk, now=NOW)
    assert again.printed_at is None and Letter.objects.count() == before + 1


def test_a_pin_puk_letter_of_a_reserve_card_is_refused_with_r16(world: World):
    card = journeys.activated(world, "reserve", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    # No service makes one (R16); the row stands for one that came in by another way.
    stray = Letter.objects.create(
        kind="pin_puk_letter",
        card=card,
        person=card.person,
        recipient_name="Erik Eriksson",
        street_address="Storgatan 1",
        postal_code="80320",
        postal_town="Gävle",
        queued_at=NOW,
    )
    with pytest.raises(Refused) as refused:
        print_queue.resend_letter(actor=world.support, letter_id=stray.pk, now=NOW)
    assert refused.value.rule == "R16"


def test_a_code_envelope_is_never_sent_again(world: World):
    card = journeys.sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    envelope = card.letters.get(kind="code_envelope")
    with pytest.raises(Refused) as refused:
        print_queue.resend_letter(actor=world.support, letter_id=envelope.pk, now=t.RESERVE_ONLY)
    assert refused.value.rule == "R16"
    assert "nytt kort" in refused.value.sv
    assert Letter.objects.filter(card=card).count() == 1 and not _resend_entries()


def test_only_support_and_issuer_admins_resend_and_unknown_letters_are_not_found(world: World):
    card = journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    letter = card.letters.get()
    for actor in (world.holder, world.orderer, world.id_admin):
        with pytest.raises(Refused) as refused:
            print_queue.resend_letter(actor=actor, letter_id=letter.pk, now=NOW)
        assert refused.value.rule == "E10"
    with pytest.raises(NotFound):
        print_queue.resend_letter(actor=world.support, letter_id=987654, now=NOW)
    assert Letter.objects.count() == 1


# --- overview --------------------------------------------------------------------------------


def _staff(world: World, n: int) -> list[Person]:
    return [
        factories.person(given=f"Person{i}", family="Test", manager=world.manager) for i in range(n)
    ]


def test_overview_counts_a_world_of_cards(world: World):
    a, b, c, d = _staff(world, 4)
    # Legacy path: a reserve card waiting at the hand-out point, collect by 2024-01-22 (R3).
    waiting = journeys.sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY, person=a)
    # New path: sent home 2024-01-31, activate by 2024-04-30 (R8); and one activated.
    journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=b)
    journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=c)
    blocked = journeys.activated(world, "reserve", t.NEW_PROCESS, t.sthlm(2024, 2, 1), person=d)
    cards.block(
        actor=world.support, reason="lost", requested_by="d", now=NOW, card_ids=[blocked.pk]
    ).one()
    journeys.ordered(world, "photo", NOW, person=a)
    printed = Letter.objects.filter(kind="cover_letter").order_by("pk").first()
    assert printed is not None
    print_queue.mark_printed(actor=world.issuer, letter_ids=[printed.pk], now=NOW)

    o = overview.overview(t.sthlm(2024, 4, 25, 12))
    assert o.total_cards == 5
    assert o.by_state == {
        "awaiting_pickup": 1,
        "sent_inactive": 1,
        "active": 1,
        "blocked": 1,
        "ordered": 1,
    }
    assert o.by_type == {"photo": 3, "reserve": 2}
    assert o.live_by_generation == {"legacy": 1, "portrait-2024": 2}
    assert o.active_by_generation == {"portrait-2024": 1}
    # The pick-up deadline passed and the job has not swept yet; the activation falls in 5 days.
    assert (o.pickup.overdue, o.pickup.within_soon, o.pickup.within_later) == (1, 0, 0)
    assert (o.activation.overdue, o.activation.within_soon, o.activation.within_later) == (0, 1, 1)
    # Letters: the code envelope (legacy reserve) and 3 cover letters; one cover letter printed.
    # The blocked reserve card's code envelope and cover letter left the queue with the block.
    assert o.print_queue == {"code_envelope": 1, "cover_letter": 1}
    assert o.letters_waiting == 2

    month_before = overview.overview(t.sthlm(2024, 4, 1, 12))
    assert (month_before.activation.within_soon, month_before.activation.within_later) == (0, 1)
    in_january = overview.overview(t.sthlm(2024, 1, 20, 12))
    assert (in_january.pickup.overdue, in_january.pickup.within_soon) == (0, 1)
    assert waiting.pickup_deadline is not None


def test_overview_of_an_empty_register(db):
    o = overview.overview(NOW)
    assert o.total_cards == 0 and o.by_state == {} and o.letters_waiting == 0
    assert (o.pickup.overdue, o.activation.within_later) == (0, 0)


def test_overview_counts_with_a_fixed_number_of_queries(world: World, django_assert_num_queries):
    for person in _staff(world, 3):
        journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=person)
    # state, type, generation, two deadline aggregates, the print queue and the cards due for
    # renewal (E12): no query per card.
    with django_assert_num_queries(7):
        overview.overview(NOW)


# --- a code letter sent again: four eyes (E14) -----------------------------------------------


def test_a_code_letter_sent_again_is_printed_only_after_a_second_person_approves(world: World):
    """An issuer administrator alone re-sends a printed PIN/PUK letter: its PDF (with the PUK)
    and its print mark wait until someone else approves; both steps are in the trail."""
    card = journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    first = cards.order_pin_letter(actor=world.holder, now=NOW, card_ids=[card.pk]).one_made()
    print_queue.mark_printed(actor=world.issuer, letter_ids=[first.pk], now=NOW)
    later = NOW + timedelta(days=3)
    new = print_queue.resend_letter(actor=world.issuer, letter_id=first.pk, now=later)
    for attempt in (
        lambda: print_queue.letter_pdf(actor=world.issuer, letter_id=new.pk, now=later),
        lambda: print_queue.mark_printed(actor=world.issuer, letter_ids=[new.pk], now=later),
        lambda: print_queue.approve_letter(actor=world.issuer, letter_id=new.pk, now=later),
    ):
        with pytest.raises(Refused) as refused:
            attempt()
        assert refused.value.rule == "E14", refused.value
    assert Letter.objects.get(pk=new.pk).printed_at is None
    assert not AuditEntry.objects.filter(action__in=["letter_rendered", "approve_letter"])
    assert print_queue.print_decision(Letter.objects.get(pk=new.pk)).rule == "E14"

    approved = print_queue.approve_letter(actor=world.support, letter_id=new.pk, now=later)
    assert (approved.approved_by, approved.approved_at) == (world.support, later)
    assert print_queue.letter_pdf(actor=world.issuer, letter_id=new.pk, now=later)[:4] == b"%PDF"
    with pytest.raises(Refused) as refused:  # nothing waits for approval any more
        print_queue.approve_letter(actor=world.support, letter_id=new.pk, now=later)
    assert refused.value.rule == "E14"

    (resent,) = _resend_entries()
    (approval,) = AuditEntry.objects.filter(action="approve_letter")
    assert (resent.actor, approval.actor) == ("utgivare", "support")
    assert (approval.object_type, approval.object_id) == ("letter", str(new.pk))
    assert approval.after["resent_by"] == "utgivare" and approval.after["card_id"] == card.pk
    assert approval.seq > resent.seq
    assert approval in history.card_history(card.pk)


def test_only_a_letter_with_the_puk_sent_again_waits_for_approval(world: World):
    """A cover letter sent again, and a PIN/PUK letter the holder orders, go straight to the
    printer (one person each, as before)."""
    sent_card = journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    cover = sent_card.letters.get(kind="cover_letter")
    print_queue.mark_printed(actor=world.issuer, letter_ids=[cover.pk], now=NOW)
    again = print_queue.resend_letter(actor=world.issuer, letter_id=cover.pk, now=NOW)
    assert print_queue.print_decision(again).allowed
    with pytest.raises(Refused) as refused:
        print_queue.approve_letter(actor=world.support, letter_id=again.pk, now=NOW)
    assert refused.value.rule == "E14"
    karin = factories.person(given="Karin", family="Kollega", manager=world.manager)
    active = journeys.activated(
        world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=karin
    )
    ordered = cards.order_pin_letter(actor=world.support, now=NOW, card_ids=[active.pk]).one_made()
    assert print_queue.print_decision(ordered).allowed
    assert print_queue.mark_printed(actor=world.issuer, letter_ids=[ordered.pk], now=NOW) == 1


def test_a_code_letter_ordered_for_someone_else_by_who_can_print_it_waits_for_approval(
    world: World,
):
    """One account that orders letters for others (support, ID administrator) and prints them
    (issuer administrator) would otherwise order a PIN/PUK letter for any card and read its PUK
    alone, as a letter sent again once did: it waits for a second person too (E14)."""
    karin = factories.person(given="Karin", family="Kollega", manager=world.manager)
    active = journeys.activated(
        world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=karin
    )
    both = factories.staff("tvahattar", Role.SUPPORT, Role.ISSUER_ADMIN)
    ordered = cards.order_pin_letter(actor=both, now=NOW, card_ids=[active.pk]).one_made()
    for attempt in (
        lambda: print_queue.letter_pdf(actor=both, letter_id=ordered.pk, now=NOW),
        lambda: print_queue.mark_printed(actor=both, letter_ids=[ordered.pk], now=NOW),
        lambda: print_queue.approve_letter(actor=both, letter_id=ordered.pk, now=NOW),
    ):
        with pytest.raises(Refused) as refused:
            attempt()
        assert refused.value.rule == "E14", refused.value
    assert not AuditEntry.objects.filter(action="letter_rendered").exists()
    print_queue.approve_letter(actor=world.support, letter_id=ordered.pk, now=NOW)
    assert print_queue.letter_pdf(actor=both, letter_id=ordered.pk, now=NOW)[:4] == b"%PDF"
    (entry,) = AuditEntry.objects.filter(action="order_pin_letter")
    assert entry.actor == "tvahattar" and entry.after["awaits_approval"] is True

    # The letter for a card of their own goes straight to the printer, as any holder's does.
    sven = factories.person(given="Sven", family="Själv", manager=world.manager)
    own = journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=sven)
    himself = factories.staff("sjalv", Role.HOLDER, Role.SUPPORT, Role.ISSUER_ADMIN, person=sven)
    mine = cards.order_pin_letter(actor=himself, now=NOW, card_ids=[own.pk]).one_made()
    assert print_queue.print_decision(mine).allowed


def test_who_ordered_a_code_letter_for_another_does_not_print_it_after_a_new_role(world: World):
    """Ordered as support, who does not print (so no approval was asked for), and then made an
    issuer administrator too: that account still does not read the letter's PUK alone (E14).
    Another issuer administrator prints it, or it prints once another person approves it."""
    karin = factories.person(given="Karin", family="Kollega", manager=world.manager)
    active = journeys.activated(
        world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=karin
    )
    later = factories.staff("senare", Role.SUPPORT)
    ordered = cards.order_pin_letter(actor=later, now=NOW, card_ids=[active.pk]).one_made()
    assert not print_queue.awaits_approval(ordered)
    factories.staff_roles(later, Role.ISSUER_ADMIN)
    for attempt in (
        lambda: print_queue.letter_pdf(actor=later, letter_id=ordered.pk, now=NOW),
        lambda: print_queue.mark_printed(actor=later, letter_ids=[ordered.pk], now=NOW),
    ):
        with pytest.raises(Refused) as refused:
            attempt()
        assert refused.value.rule == "E14", refused.value
    assert not print_queue.print_decision(Letter.objects.get(pk=ordered.pk), later).allowed
    assert print_queue.print_decision(Letter.objects.get(pk=ordered.pk), world.issuer).allowed
    assert not AuditEntry.objects.filter(action__in=["letter_rendered", "letter_printed"]).exists()
    assert print_queue.letter_pdf(actor=world.issuer, letter_id=ordered.pk, now=NOW)[:4] == b"%PDF"
    assert print_queue.mark_printed(actor=world.issuer, letter_ids=[ordered.pk], now=NOW) == 1


def test_only_support_and_issuer_admins_approve_and_unknown_letters_are_not_found(world: World):
    card = journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    first = cards.order_pin_letter(actor=world.holder, now=NOW, card_ids=[card.pk]).one_made()
    print_queue.mark_printed(actor=world.issuer, letter_ids=[first.pk], now=NOW)
    new = print_queue.resend_letter(actor=world.support, letter_id=first.pk, now=NOW)
    for actor in (world.holder, world.orderer, world.id_admin):
        with pytest.raises(Refused) as refused:
            print_queue.approve_letter(actor=actor, letter_id=new.pk, now=NOW)
        assert refused.value.rule == "E10"
    with pytest.raises(NotFound):
        print_queue.approve_letter(actor=world.issuer, letter_id=987654, now=NOW)
    assert not AuditEntry.objects.filter(action="approve_letter").exists()
