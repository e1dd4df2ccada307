"""Every card service: the success case and each refusal it can give, with the rule behind it.

A refusal writes nothing. Every refused call here runs inside `nothing_written`, which compares
every card table, the audit trail and its head before and after, and reloads the card.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User

from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.domain.vocabulary import Role
from ekort.services import audit, cards
from ekort.store.models import (
    AuditEntry,
    AuditHead,
    Block,
    Card,
    CardNumberSequence,
    CardOrder,
    IdentityCheck,
    Letter,
    Person,
)
from tests import factories
from tests import instants as t
from tests.factories import World
from tests.integration.journeys import (
    JPEG,
    PASSPORT,
    PIN,
    activated,
    handed_out,
    ordered,
    photographed,
    produced,
    sent,
)

pytestmark = pytest.mark.django_db

NEW = t.NEW_PROCESS  # 2024-01-31: the new process; a card sent then is activated by 2024-04-30
NEW_PIN = "583016"  # chosen at an office unlock (R14)


# --- what a refusal must leave untouched -------------------------------------------------

_WATCHED = (
    Card,
    CardOrder,
    Block,
    Letter,
    IdentityCheck,
    AuditEntry,
    AuditHead,
    CardNumberSequence,
)


def _rows() -> dict[str, list[dict[str, Any]]]:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in _WATCHED}


@contextmanager
def nothing_written(card: Card | None = None) -> Iterator[None]:
    if card is not None:
        card.refresh_from_db()
    state = None if card is None else card.state
    rows = _rows()
    yield
    assert _rows() == rows, "a refused or invalid call wrote to the database"
    if card is not None:
        card.refresh_from_db()
        assert card.state == state


def assert_refused(rule: str, attempt: Callable[[], object], card: Card | None = None) -> Refused:
    with nothing_written(card), pytest.raises(Refused) as refused:
        attempt()
    assert refused.value.rule == rule, str(refused.value)
    assert audit.verify_trail() == []
    return refused.value


def assert_rejected(
    error: type[Exception], attempt: Callable[[], object], card: Card | None = None
) -> Exception:
    with nothing_written(card), pytest.raises(error) as raised:
        attempt()
    return raised.value


class RecordingChip:
    """A card chip that only records what it was asked to do."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def set_pin(self, card_number: str, pin: str) -> None:
        self.calls.append(("set_pin", card_number, pin))

    def unlock_pin(self, card_number: str, new_pin: str) -> None:
        self.calls.append(("unlock_pin", card_number, new_pin))


# --- people and cards --------------------------------------------------------------------


def grant(user: User, role: Role) -> None:
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    user.__dict__.pop("_ekort_roles", None)  # roles are cached on the user object


def colleague(w: World, **kwargs: Any) -> Person:
    """Another person the world's manager manages."""
    return factories.person(given="Lena", family="Lind", manager=w.manager, unit=w.unit, **kwargs)


def other_manager() -> User:
    """An orderer who manages nobody in the world."""
    boss = factories.person(given="Olle", family="Annan", birth="19750505")
    return factories.staff("chef2", Role.ORDERER, Role.HOLDER, person=boss)


def actor(w: World, name: str) -> User:
    return getattr(w, name)


def history(card: Card) -> list[str]:
    return [entry.action for entry in audit.history("card", str(card.pk))]


def audit_text() -> str:
    """Everything the audit trail says, as one text to search."""
    return "\n".join(
        json.dumps(
            [e.actor, e.action, e.object_type, e.object_id, e.reason, e.before, e.after],
            ensure_ascii=False,
            default=str,
        )
        for e in AuditEntry.objects.order_by("seq")
    )


def refreshed(card: Card) -> Card:
    card.refresh_from_db()
    return card


# ===========================================================================================
# order_card
# ===========================================================================================


def test_order_card(world):
    card = refreshed(ordered(world, "photo", NEW))
    assert (card.state, card.card_type, card.assurance_level) == ("ordered", "photo", "3")
    assert card.number is None and card.person == world.employee
    order = card.order
    assert (order.person, order.ordered_by, order.ordered_at, order.replaces) == (
        world.employee,
        world.orderer,
        NEW,
        None,
    )
    assert history(card) == ["order"]
    assert audit.verify_trail() == []


@pytest.mark.parametrize(
    ("card_type", "now"),
    [
        ("photo", t.LEGACY_SIS),
        ("photo", t.RESERVE_ONLY),  # R2: photo cards are still ordered as usual
        ("photo", t.LAST_PICKUP_DAY_END),  # R4 starts the next day
        ("photo", t.NEW_PROCESS_START),  # R4 ended the day before
        ("reserve", t.RESERVE_ONLY_START),
        ("reserve", t.LAST_PICKUP_DAY_END),
        ("reserve", t.NEW_PROCESS_START),
    ],
)
def test_order_allowed_outside_the_stop(world, card_type, now):
    assert ordered(world, card_type, now).state == "ordered"


def test_a_person_without_registered_address_gets_assurance_level_2(world):
    homeless = colleague(world, address=False)
    assert refreshed(ordered(world, "reserve", NEW, person=homeless)).assurance_level == "2"


@pytest.mark.parametrize("name", ["holder", "support", "id_admin", "issuer"])
def test_order_needs_the_orderer_role(world, name):
    refused = assert_refused(
        "E10",
        lambda: cards.order_cards(
            actor=actor(world, name), now=NEW, orders=[cards.NewOrder(world.employee.pk, "photo")]
        ).one(),
    )
    assert "orderer" in refused.en


def test_an_orderer_who_is_not_the_manager_cannot_order(world):
    assert_refused(
        "E2",
        lambda: cards.order_cards(
            actor=other_manager(), now=NEW, orders=[cards.NewOrder(world.employee.pk, "photo")]
        ).one(),
    )


@pytest.mark.parametrize(
    ("last_day", "refused"),
    [(date(2024, 2, 6), False), (date(2024, 2, 5), True)],
    ids=["last-day-today", "ended-yesterday"],
)
def test_no_card_is_ordered_or_replaced_for_someone_whose_employment_has_ended(
    world, last_day, refused
):
    """E13: the register says the employment ended; an order or a replacement would send a
    card to someone who has left. Through their last day they are still employed."""
    now = t.sthlm(2024, 2, 6, 10)
    active = activated(world, "photo", NEW, t.sthlm(2024, 2, 1, 10))
    world.employee.employment_ends = last_day
    world.employee.save(update_fields=["employment_ends"])
    attempts = [
        lambda: cards.order_cards(
            actor=world.orderer, now=now, orders=[cards.NewOrder(world.employee.pk, "reserve")]
        ).one(),
        lambda: cards.replace_card(
            actor=world.orderer, card_ids=[active.pk], reason="damaged", now=now
        ).one(),
    ]
    for attempt in attempts:
        if refused:
            assert_refused("E13", attempt)
        else:
            attempt()


def test_a_holder_cannot_order_a_card_for_herself(world):
    # The manager is also a holder; nobody is recorded as her manager, so not even she may.
    assert_refused(
        "E2",
        lambda: cards.order_cards(
            actor=world.orderer, now=NEW, orders=[cards.NewOrder(world.manager.pk, "reserve")]
        ).one(),
    )


def test_nobody_may_order_for_a_person_without_a_manager(world):
    loner = factories.person(given="Ensam", family="Person")
    assert_refused(
        "E2",
        lambda: cards.order_cards(
            actor=world.orderer, now=NEW, orders=[cards.NewOrder(loner.pk, "photo")]
        ).one(),
    )


FREEZE = [t.STOP_START, t.DURING_FREEZE, t.NEW_GENERATION_DAY, t.LAST_STOP_DAY_END]
FREEZE_IDS = ["23rd-start", "24th", "25th", "25th-end"]


@pytest.mark.parametrize("card_type", ["photo", "reserve"])
@pytest.mark.parametrize("now", FREEZE, ids=FREEZE_IDS)
def test_no_order_during_the_stop(world, card_type, now):
    assert_refused("R4", lambda: ordered(world, card_type, now))


# Builders for a card in a given state, on the new process unless the state needs the old one.
STATES: dict[str, Callable[[World, str], Card]] = {
    "ordered": lambda w, kind: ordered(w, kind, NEW),
    "photographed": lambda w, kind: photographed(w, NEW, NEW),
    "produced": lambda w, kind: produced(w, kind, NEW, NEW),
    "sent_inactive": lambda w, kind: sent(w, kind, NEW, NEW),
    "active": lambda w, kind: activated(w, kind, NEW, NEW),
}
OCCUPIED = [
    ("photo", "ordered"),
    ("photo", "photographed"),
    ("photo", "produced"),
    ("photo", "sent_inactive"),
    ("photo", "active"),
    ("reserve", "ordered"),
    ("reserve", "sent_inactive"),
    ("reserve", "active"),
]


@pytest.mark.parametrize(("card_type", "state"), OCCUPIED)
def test_a_second_card_of_the_same_type_is_refused(world, card_type, state):
    first = STATES[state](world, card_type)
    assert refreshed(first).state == state
    assert_refused("E8", lambda: ordered(world, card_type, NEW), first)
    other_type = "reserve" if card_type == "photo" else "photo"
    assert ordered(world, other_type, NEW).state == "ordered"  # one of each type is fine


def test_after_a_block_a_new_card_can_be_ordered(world):
    first = sent(world, "photo", NEW, NEW)
    assert_refused("E8", lambda: ordered(world, "photo", NEW))
    cards.block(
        actor=world.holder, reason="lost", requested_by="Erik", now=NEW, card_ids=[first.pk]
    ).one()
    second = ordered(world, "photo", NEW)
    assert second.state == "ordered" and second.order.replaces is None
    assert audit.verify_trail() == []


def test_after_a_cancellation_a_new_card_can_be_ordered(world):
    first = ordered(world, "reserve", NEW)
    cards.cancel_order(actor=world.orderer, now=NEW, card_ids=[first.pk]).one()
    assert ordered(world, "reserve", NEW).pk != first.pk


def test_order_card_input_errors(world):
    assert_rejected(
        InvalidInput,
        lambda: cards.order_cards(
            actor=world.orderer, now=NEW, orders=[cards.NewOrder(world.employee.pk, "company")]
        ).one(),
    )
    assert_rejected(
        NotFound,
        lambda: cards.order_cards(
            actor=world.orderer, now=NEW, orders=[cards.NewOrder(world.employee.pk + 1000, "photo")]
        ).one(),
    )


# ===========================================================================================
# cancel_order
# ===========================================================================================


@pytest.mark.parametrize("state", ["ordered", "photographed"])
def test_cancel_order(world, state):
    card = STATES[state](world, "photo")
    later = NEW + timedelta(hours=1)
    cancelled = cards.cancel_order(
        actor=world.orderer, now=later, reason="employment withdrawn", card_ids=[card.pk]
    ).one()
    card = refreshed(cancelled)
    assert (card.state, card.closed_at) == ("cancelled", later)
    assert history(card)[-1] == "cancel"
    assert AuditEntry.objects.order_by("seq").last().reason == "employment withdrawn"
    assert audit.verify_trail() == []


@pytest.mark.parametrize("name", ["holder", "id_admin"])
def test_cancel_order_needs_the_orderer_role(world, name):
    card = ordered(world, "photo", NEW)
    assert_refused(
        "E10",
        lambda: cards.cancel_order(actor=actor(world, name), now=NEW, card_ids=[card.pk]).one(),
        card,
    )


def test_only_the_manager_may_cancel(world):
    card = ordered(world, "photo", NEW)
    assert_refused(
        "E2",
        lambda: cards.cancel_order(actor=other_manager(), now=NEW, card_ids=[card.pk]).one(),
        card,
    )


@pytest.mark.parametrize("state", ["produced", "sent_inactive", "active"])
def test_a_produced_card_cannot_be_cancelled(world, state):
    card = STATES[state](world, "reserve")
    refused = assert_refused(
        "E1",
        lambda: cards.cancel_order(actor=world.orderer, now=NEW, card_ids=[card.pk]).one(),
        card,
    )
    assert "Allowed in this state: " in refused.en and "block" in refused.en


def test_a_cancelled_order_cannot_be_cancelled_again(world):
    card = ordered(world, "photo", NEW)
    cards.cancel_order(actor=world.orderer, now=NEW, card_ids=[card.pk]).one()
    assert_refused(
        "E1",
        lambda: cards.cancel_order(actor=world.orderer, now=NEW, card_ids=[card.pk]).one(),
        card,
    )


# ===========================================================================================
# replace_card
# ===========================================================================================

LIVE = {
    "produced": lambda w: produced(w, "photo", NEW, NEW),
    "sent_inactive": lambda w: sent(w, "photo", NEW, NEW),
    "active": lambda w: activated(w, "photo", NEW, NEW),
    "awaiting_pickup": lambda w: sent(w, "photo", t.LEGACY_COMPANY, t.LEGACY_COMPANY),
}


@pytest.mark.parametrize("state", list(LIVE))
def test_replace_card_blocks_a_lost_live_old_card_and_links_the_new_one(world, state):
    old = LIVE[state](world)
    assert refreshed(old).state == state
    later = NEW + timedelta(days=2)
    new = cards.replace_card(
        actor=world.orderer, reason="lost", now=later, note="lost on the bus", card_ids=[old.pk]
    ).one()
    old = refreshed(old)
    assert (old.state, old.closed_at) == ("blocked", later)
    block = Block.objects.get(card=old)
    assert (block.reason, block.requested_by, block.registered_by, block.registered_at) == (
        "lost",
        "chef",
        world.orderer,
        later,
    )
    new = refreshed(new)
    assert (new.state, new.card_type, new.person) == ("ordered", "photo", world.employee)
    assert new.order.replaces == old
    assert list(old.replaced_by.all()) == [new.order]
    assert history(old)[-1] == "block"
    assert history(new) == ["order"]
    assert audit.verify_trail() == []


def test_replacing_a_blocked_card_leaves_it_as_it_was(world):
    old = activated(world, "reserve", NEW, NEW)
    cards.block(
        actor=world.support, reason="stolen", requested_by="Erik", now=NEW, card_ids=[old.pk]
    ).one()
    closed_at = refreshed(old).closed_at
    new = cards.replace_card(actor=world.orderer, reason="other", now=NEW, card_ids=[old.pk]).one()
    old = refreshed(old)
    assert (old.state, old.closed_at) == ("blocked", closed_at)
    assert Block.objects.get(card=old).reason == "stolen"  # the first block stands (E9)
    assert new.order.replaces == old
    # A reserve card at assurance level 3: two ID administrators activated it (E11).
    assert history(old) == [
        "order",
        "produce",
        "send",
        "activation_registered",
        "activate",
        "block",
    ]
    assert audit.verify_trail() == []


def test_replace_refused_to_someone_who_is_not_the_manager(world):
    old = activated(world, "photo", NEW, NEW)
    assert_refused(
        "E2",
        lambda: cards.replace_card(
            actor=other_manager(), reason="lost", now=NEW, card_ids=[old.pk]
        ).one(),
        old,
    )
    assert_refused(
        "E10",
        lambda: cards.replace_card(
            actor=world.holder, reason="lost", now=NEW, card_ids=[old.pk]
        ).one(),
        old,
    )


@pytest.mark.parametrize("now", FREEZE, ids=FREEZE_IDS)
def test_no_replacement_during_the_stop(world, now):
    old = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    assert_refused(
        "R4",
        lambda: cards.replace_card(
            actor=world.orderer, reason="lost", now=now, card_ids=[old.pk]
        ).one(),
        old,
    )


@pytest.mark.parametrize("state", ["ordered", "photographed", "cancelled"])
def test_an_order_is_not_replaced(world, state):
    if state == "cancelled":
        old = ordered(world, "photo", NEW)
        cards.cancel_order(actor=world.orderer, now=NEW, card_ids=[old.pk]).one()
    else:
        old = STATES[state](world, "photo")
    assert_refused(
        "E1",
        lambda: cards.replace_card(
            actor=world.orderer, reason="lost", now=NEW, card_ids=[old.pk]
        ).one(),
        old,
    )


def test_a_card_already_replaced_is_not_replaced_twice(world):
    old = activated(world, "photo", NEW, NEW)
    cards.replace_card(actor=world.orderer, reason="lost", now=NEW, card_ids=[old.pk]).one()
    assert_refused(
        "E8",
        lambda: cards.replace_card(
            actor=world.orderer, reason="lost", now=NEW, card_ids=[old.pk]
        ).one(),
        old,
    )


def test_a_refused_replacement_does_not_keep_the_block_it_began_with(world):
    old = activated(world, "photo", NEW, NEW)
    # A second photo order already on file (say, migrated from the old system): E8 is only
    # found after the old card was blocked in the same transaction, which must roll back.
    order = CardOrder.objects.create(
        person=world.employee, card_type="photo", ordered_by=world.orderer, ordered_at=NEW
    )
    Card.objects.create(order=order, person=world.employee, card_type="photo")
    assert_refused(
        "E8",
        lambda: cards.replace_card(
            actor=world.orderer, reason="lost", now=NEW, card_ids=[old.pk]
        ).one(),
        old,
    )
    assert refreshed(old).state == "active"
    assert not Block.objects.filter(card=old).exists()


def test_replace_with_an_unknown_reason(world):
    old = activated(world, "photo", NEW, NEW)
    assert_rejected(
        InvalidInput,
        lambda: cards.replace_card(
            actor=world.orderer, reason="bored", now=NEW, card_ids=[old.pk]
        ).one(),
        old,
    )


# ===========================================================================================
# photograph
# ===========================================================================================


def test_photograph_on_the_day_the_new_portal_opens(world):
    card = ordered(world, "photo", t.RESERVE_ONLY)
    cards.photograph(actor=world.id_admin, now=t.NEW_PROCESS_START, photos={card.pk: JPEG}).one()
    card = refreshed(card)
    assert card.state == "photographed"
    assert card.photo_sha256 == hashlib.sha256(JPEG).hexdigest()
    assert (card.photographed_at, card.photographed_by) == (t.NEW_PROCESS_START, world.id_admin)
    assert history(card) == ["order", "photograph"]
    assert audit.verify_trail() == []


def test_photograph_as_usual_before_the_reserve_only_period(world):
    card = ordered(world, "photo", t.LEGACY_COMPANY)
    photo = cards.photograph(
        actor=world.id_admin, now=t.LAST_LEGACY_DAY_END, photos={card.pk: JPEG}
    ).one()
    assert photo.state == "photographed"


@pytest.mark.parametrize("name", ["issuer", "support", "orderer", "holder"])
def test_photograph_needs_an_id_admin(world, name):
    card = ordered(world, "photo", NEW)
    assert_refused(
        "E10",
        lambda: cards.photograph(actor=actor(world, name), now=NEW, photos={card.pk: JPEG}).one(),
        card,
    )


@pytest.mark.parametrize("now", [t.RESERVE_ONLY, NEW])
def test_a_reserve_card_is_not_photographed(world, now):
    card = ordered(world, "reserve", now)
    assert_refused(
        "E7",
        lambda: cards.photograph(actor=world.id_admin, now=now, photos={card.pk: JPEG}).one(),
        card,
    )


@pytest.mark.parametrize(
    "now",
    [
        t.RESERVE_ONLY_START,
        t.RESERVE_ONLY,
        t.LAST_PICKUP_DAY_END,
        t.DURING_FREEZE,
        t.LAST_STOP_DAY_END,
    ],
)
def test_nobody_is_photographed_before_26_january(world, now):
    card = ordered(world, "photo", t.RESERVE_ONLY_START)
    assert_refused(
        "R2",
        lambda: cards.photograph(actor=world.id_admin, now=now, photos={card.pk: JPEG}).one(),
        card,
    )


def test_a_card_is_photographed_once(world):
    card = photographed(world, NEW, NEW)
    assert_refused(
        "E1",
        lambda: cards.photograph(actor=world.id_admin, now=NEW, photos={card.pk: JPEG}).one(),
        card,
    )


@pytest.mark.parametrize(
    "photo",
    [b"", "not bytes", b"GIF89a" + b"\x00" * 16, b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024)],
    ids=["empty", "text", "gif", "too-large"],
)
def test_photograph_with_a_bad_picture(world, photo):
    card = ordered(world, "photo", NEW)
    assert_rejected(
        InvalidInput,
        lambda: cards.photograph(actor=world.id_admin, now=NEW, photos={card.pk: photo}).one(),
        card,
    )


# ===========================================================================================
# produce
# ===========================================================================================


@pytest.mark.parametrize(
    ("card_type", "ordered_at", "produced_at", "generation", "sis_marked"),
    [
        ("photo", t.LEGACY_SIS, t.LEGACY_SIS, "legacy", True),  # R17
        ("photo", t.LEGACY_COMPANY, t.LAST_LEGACY_DAY_END, "legacy", False),  # R17
        ("reserve", t.RESERVE_ONLY, t.RESERVE_ONLY, "legacy", False),  # R1
        ("reserve", t.RESERVE_ONLY, t.LAST_PICKUP_DAY_END, "legacy", False),
        ("photo", NEW, NEW, "portrait-2024", False),  # R5
        ("reserve", t.RESERVE_ONLY, t.NEW_PROCESS_START, "portrait-2024", False),
    ],
)
def test_produce(world, card_type, ordered_at, produced_at, generation, sis_marked):
    card = ordered(world, card_type, ordered_at)
    if card_type == "photo":
        cards.photograph(actor=world.id_admin, now=produced_at, photos={card.pk: JPEG}).one()
    cards.produce(actor=world.issuer, now=produced_at, card_ids=[card.pk]).one()
    card = refreshed(card)
    assert card.state == "produced"
    assert (card.generation, card.sis_marked) == (generation, sis_marked)
    local_day = produced_at.date()
    assert card.valid_until == local_day.replace(year=local_day.year + 5)
    assert card.produced_at == produced_at
    prefix = settings.EKORT_CARD_NUMBER_PREFIX
    assert card.number is not None and card.number.startswith(prefix)
    assert len(card.number) == len(prefix) + 11  # ten-digit running number and a check digit
    assert history(card)[-1] == "produce"
    assert audit.verify_trail() == []


def test_every_produced_card_gets_its_own_number(world):
    first = produced(world, "photo", NEW, NEW)
    second = produced(world, "reserve", NEW, NEW)
    assert first.number != second.number
    running = slice(len(settings.EKORT_CARD_NUMBER_PREFIX), -1)
    assert int(second.number[running]) == int(first.number[running]) + 1


@pytest.mark.parametrize("name", ["id_admin", "support", "orderer", "holder"])
def test_produce_needs_the_issuer(world, name):
    card = ordered(world, "reserve", NEW)
    assert_refused(
        "E10",
        lambda: cards.produce(actor=actor(world, name), now=NEW, card_ids=[card.pk]).one(),
        card,
    )


@pytest.mark.parametrize("now", [t.RESERVE_ONLY_START, t.RESERVE_ONLY, t.LAST_PICKUP_DAY_END])
def test_no_photo_card_is_issued_in_the_reserve_only_period(world, now):
    card = photographed(world, t.LEGACY_COMPANY, t.LEGACY_COMPANY)
    assert_refused(
        "R1", lambda: cards.produce(actor=world.issuer, now=now, card_ids=[card.pk]).one(), card
    )


@pytest.mark.parametrize("card_type", ["photo", "reserve"])
@pytest.mark.parametrize("now", FREEZE, ids=FREEZE_IDS)
def test_nothing_is_produced_during_the_stop(world, card_type, now):
    if card_type == "photo":
        card = photographed(world, t.LEGACY_COMPANY, t.LEGACY_COMPANY)
    else:
        card = ordered(world, "reserve", t.RESERVE_ONLY)
    assert_refused(
        "R4", lambda: cards.produce(actor=world.issuer, now=now, card_ids=[card.pk]).one(), card
    )


def test_a_photo_card_is_photographed_before_it_is_produced(world):
    card = ordered(world, "photo", NEW)
    # The lifecycle: only a reserve card goes from ordered to produced (E1, citing R2).
    refused = assert_refused(
        "E1", lambda: cards.produce(actor=world.issuer, now=NEW, card_ids=[card.pk]).one(), card
    )
    assert "photographed before it is produced (R2)" in refused.en


def test_a_card_is_produced_once(world):
    card = produced(world, "reserve", NEW, NEW)
    assert_refused(
        "E1", lambda: cards.produce(actor=world.issuer, now=NEW, card_ids=[card.pk]).one(), card
    )


# ===========================================================================================
# send
# ===========================================================================================


@pytest.mark.parametrize(
    ("card_type", "letters"),
    [("photo", ["cover_letter"]), ("reserve", ["cover_letter", "code_envelope"])],
)
def test_send_home(world, card_type, letters):
    card = sent(world, card_type, NEW, NEW)
    card = refreshed(card)
    assert (card.state, card.delivery_path, card.sent_at) == ("sent_inactive", "home", NEW)
    assert card.activation_deadline == date(2024, 4, 30)  # R8: sent 2024-01-31
    assert card.pickup_deadline is None
    sent_letters = Letter.objects.filter(card=card).order_by("pk")
    # R10: the cover letter; R16: a reserve card carries its PUK in a code envelope.
    assert [letter.kind for letter in sent_letters] == letters
    for letter in sent_letters:
        assert (letter.person, letter.recipient_name, letter.queued_at) == (
            world.employee,
            "Erik Eriksson",
            NEW,
        )
        assert (letter.street_address, letter.postal_code, letter.postal_town) == (
            "Storgatan 1",
            "80320",
            "Gävle",
        )
    assert history(card)[-1] == "send"
    assert audit.verify_trail() == []


@pytest.mark.parametrize(
    ("card_type", "at"),
    [("reserve", t.RESERVE_ONLY), ("photo", t.LEGACY_COMPANY), ("reserve", t.LEGACY_SIS)],
)
def test_send_a_code_envelope_on_the_legacy_path(world, card_type, at):
    card = refreshed(sent(world, card_type, at, at))
    assert (card.state, card.delivery_path) == ("awaiting_pickup", "code_envelope")
    assert card.pickup_deadline == date(2024, 1, 22)  # R3
    assert card.activation_deadline is None
    assert [letter.kind for letter in Letter.objects.filter(card=card)] == ["code_envelope"]


@pytest.mark.parametrize("name", ["id_admin", "support", "orderer", "holder"])
def test_send_needs_the_issuer(world, name):
    card = produced(world, "reserve", NEW, NEW)
    assert_refused(
        "E10", lambda: cards.send(actor=actor(world, name), now=NEW, card_ids=[card.pk]).one(), card
    )


@pytest.mark.parametrize("now", FREEZE, ids=FREEZE_IDS)
def test_nothing_is_sent_during_the_stop(world, now):
    card = produced(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    assert_refused(
        "R4", lambda: cards.send(actor=world.issuer, now=now, card_ids=[card.pk]).one(), card
    )


def test_a_photo_card_is_not_sent_in_the_reserve_only_period(world):
    card = produced(world, "photo", t.LEGACY_COMPANY, t.LAST_LEGACY_DAY_END)
    assert_refused(
        "R1",
        lambda: cards.send(actor=world.issuer, now=t.RESERVE_ONLY, card_ids=[card.pk]).one(),
        card,
    )


@pytest.mark.parametrize(("at", "rule"), [(NEW, "R6"), (t.RESERVE_ONLY, "R3")])
def test_send_needs_a_registered_address(world, at, rule):
    homeless = colleague(world, address=False)
    card = produced(world, "reserve", at, at, person=homeless)
    assert_refused(
        rule, lambda: cards.send(actor=world.issuer, now=at, card_ids=[card.pk]).one(), card
    )


@pytest.mark.parametrize("state", ["ordered", "sent_inactive", "active"])
def test_only_a_produced_card_is_sent(world, state):
    card = STATES[state](world, "reserve")
    assert_refused(
        "E1", lambda: cards.send(actor=world.issuer, now=NEW, card_ids=[card.pk]).one(), card
    )


# ===========================================================================================
# hand_out (legacy path, R3)
# ===========================================================================================


def awaiting_pickup(w: World, *, person: Person | None = None, card_type: str = "reserve") -> Card:
    """A reserve card (two ID administrators hand it out, E11) or a photo card (one)."""
    if card_type == "photo":  # issued before the reserve-only weeks (R1)
        return sent(w, "photo", t.LEGACY_COMPANY, t.LEGACY_COMPANY, person=person)
    return sent(w, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY, person=person)


def test_hand_out_on_the_last_pickup_day(world):
    card = awaiting_pickup(world, card_type="photo")  # one administrator hands it out
    document = replace(PASSPORT, number="ab 123 4567", expires_on=date(2024, 1, 22))
    cards.hand_out(
        actor=world.id_admin, now=t.LAST_PICKUP_DAY_END, documents={card.pk: document}
    ).one()
    card = refreshed(card)
    assert card.state == "active"
    assert (card.activated_at, card.activated_by) == (t.LAST_PICKUP_DAY_END, world.id_admin)
    check = IdentityCheck.objects.get(card=card)
    assert (check.purpose, check.document_kind, check.document_number) == (
        "hand_out",
        "passport",
        "AB1234567",
    )
    assert (check.document_expires_on, check.checked_by) == (date(2024, 1, 22), world.id_admin)
    assert history(card)[-1] == "hand_out"
    assert audit.verify_trail() == []


@pytest.mark.parametrize("name", ["issuer", "support", "orderer", "holder"])
def test_hand_out_needs_an_id_admin(world, name):
    card = awaiting_pickup(world)
    assert_refused(
        "E10",
        lambda: cards.hand_out(
            actor=actor(world, name), now=t.LAST_PICKUP_DAY, documents={card.pk: PASSPORT}
        ).one(),
        card,
    )


@pytest.mark.parametrize(
    ("now", "rule"),
    [
        (t.STOP_START, "R3"),  # the last day to collect was the 22nd
        (t.DURING_FREEZE, "R3"),
        (t.LAST_STOP_DAY_END, "R3"),
        (NEW, "R6"),  # cards are sent home now, not handed out
    ],
)
def test_no_hand_out_after_the_pickup_deadline(world, now, rule):
    card = awaiting_pickup(world)
    assert_refused(
        rule,
        lambda: cards.hand_out(actor=world.id_admin, now=now, documents={card.pk: PASSPORT}).one(),
        card,
    )


def test_only_a_card_awaiting_pickup_is_handed_out(world):
    card = produced(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    assert_refused(
        "E1",
        lambda: cards.hand_out(
            actor=world.id_admin, now=t.LAST_PICKUP_DAY, documents={card.pk: PASSPORT}
        ).one(),
        card,
    )


# Documents that do not prove identity (E4); a card without SIS marking is a service ID (R17).
BAD_DOCUMENTS = {
    "expired": "E4",
    "digital": "E4",
    "no-expiry": "E4",
    "other-kind": "E4",
    "company-card": "R17",
}


def bad_document(case: str, today: date) -> cards.DocumentShown:
    return {
        "expired": replace(PASSPORT, expires_on=today - timedelta(days=1)),
        "digital": replace(PASSPORT, digital=True),
        "no-expiry": replace(PASSPORT, expires_on=None),
        "other-kind": replace(PASSPORT, kind="other"),
        "company-card": replace(PASSPORT, kind="company_card"),
    }[case]


@pytest.mark.parametrize(("case", "rule"), BAD_DOCUMENTS.items())
def test_hand_out_needs_a_valid_identity_document(world, case, rule):
    card = awaiting_pickup(world)
    document = bad_document(case, t.LAST_PICKUP_DAY.date())
    assert_refused(
        rule,
        lambda: cards.hand_out(
            actor=world.id_admin, now=t.LAST_PICKUP_DAY, documents={card.pk: document}
        ).one(),
        card,
    )


@pytest.mark.parametrize(
    "document",
    [replace(PASSPORT, kind="library_card"), replace(PASSPORT, number="A-1")],
    ids=["unknown-kind", "bad-number"],
)
def test_hand_out_with_an_unreadable_document(world, document):
    card = awaiting_pickup(world)
    assert_rejected(
        InvalidInput,
        lambda: cards.hand_out(
            actor=world.id_admin, now=t.LAST_PICKUP_DAY, documents={card.pk: document}
        ).one(),
        card,
    )


def test_hand_out_to_a_holder_under_18_is_refused(world):
    minor = colleague(world, birth="20060123")  # turns 18 on 2024-01-23
    card = awaiting_pickup(world, person=minor)
    assert_refused(
        "E5",
        lambda: cards.hand_out(
            actor=world.id_admin, now=t.LAST_PICKUP_DAY_END, documents={card.pk: PASSPORT}
        ).one(),
        card,
    )


# ===========================================================================================
# activate (new path, R7-R9)
# ===========================================================================================


# A reserve card at assurance level 3 takes two ID administrators: test_four_eyes_activation.py.
@pytest.mark.parametrize("now", [NEW, t.LAST_ACTIVATION_DAY_END], ids=["sent-day", "last-day"])
def test_activate(world, now):
    card = sent(world, "photo", NEW, NEW)
    chip = RecordingChip()
    cards.activate(
        actor=world.id_admin,
        now=now,
        chip=chip,
        activations={card.pk: cards.Activation(PASSPORT, PIN)},
    ).one()
    card = refreshed(card)
    assert card.state == "active"
    assert (card.activated_at, card.activated_by) == (now, world.id_admin)
    assert chip.calls == [("set_pin", card.number, PIN)]  # R9: the PIN goes to the chip
    check = IdentityCheck.objects.get(card=card)
    assert (check.purpose, check.document_kind, check.checked_by) == (
        "activation",
        "passport",
        world.id_admin,
    )
    entry = AuditEntry.objects.order_by("seq").last()
    assert (entry.action, entry.after["state"], entry.after["pin_set"]) == (
        "activate",
        "active",
        True,
    )
    assert PIN not in audit_text()
    assert audit.verify_trail() == []


def attempt_activation(
    w: World,
    card: Card,
    chip: RecordingChip,
    *,
    by: User | None = None,
    document: cards.DocumentShown = PASSPORT,
    pin: object = PIN,
    now: datetime = NEW,
) -> Callable[[], object]:
    return lambda: cards.activate(
        actor=w.id_admin if by is None else by,
        now=now,
        chip=chip,
        activations={card.pk: cards.Activation(document, pin)},
    ).one()


@pytest.mark.parametrize("name", ["issuer", "support", "orderer", "holder"])
def test_activate_needs_an_id_admin(world, name):
    card, chip = sent(world, "photo", NEW, NEW), RecordingChip()
    assert_refused("E10", attempt_activation(world, card, chip, by=actor(world, name)), card)
    assert chip.calls == []


@pytest.mark.parametrize("now", [t.LAST_PICKUP_DAY, t.DURING_FREEZE])
def test_activation_at_a_card_office_begins_on_25_january(world, now):
    card, chip = awaiting_pickup(world), RecordingChip()
    assert_refused("R7", attempt_activation(world, card, chip, now=now), card)
    assert chip.calls == []


def test_an_active_card_is_not_activated_again(world):
    card, chip = activated(world, "photo", NEW, NEW), RecordingChip()
    assert_refused("E1", attempt_activation(world, card, chip), card)
    assert chip.calls == []


@pytest.mark.parametrize(
    "now", [t.AFTER_ACTIVATION_WINDOW, t.sthlm(2024, 7, 1, 10)], ids=["day-after", "months-after"]
)
def test_activation_after_the_window_is_refused(world, now):
    card, chip = sent(world, "photo", NEW, NEW), RecordingChip()
    refused = assert_refused("R8", attempt_activation(world, card, chip, now=now), card)
    assert "2024-04-30" in refused.en
    assert chip.calls == []


@pytest.mark.parametrize(("case", "rule"), BAD_DOCUMENTS.items())
def test_activation_needs_a_valid_identity_document(world, case, rule):
    card, chip = sent(world, "photo", NEW, NEW), RecordingChip()
    document = bad_document(case, NEW.date())
    assert_refused(rule, attempt_activation(world, card, chip, document=document), card)
    assert chip.calls == []


def test_a_document_is_valid_through_its_expiry_day(world):
    card, chip = sent(world, "photo", NEW, NEW), RecordingChip()
    attempt_activation(world, card, chip, document=replace(PASSPORT, expires_on=NEW.date()))()
    assert refreshed(card).state == "active"


def test_activation_with_an_unknown_document_kind(world):
    card, chip = sent(world, "photo", NEW, NEW), RecordingChip()
    document = replace(PASSPORT, kind="library_card")
    assert_rejected(InvalidInput, attempt_activation(world, card, chip, document=document), card)
    assert chip.calls == []


@pytest.mark.parametrize(
    ("birth", "allowed"),
    [("20060131", True), ("20060201", False), ("20080101", False)],
    ids=["18-today", "18-tomorrow", "16"],
)
def test_a_holder_under_18_is_refused_for_assurance_level_3(world, birth, allowed):
    holder = colleague(world, birth=birth)
    card, chip = sent(world, "photo", NEW, NEW, person=holder), RecordingChip()
    assert refreshed(card).assurance_level == "3"
    if allowed:
        attempt_activation(world, card, chip)()
        assert refreshed(card).state == "active"
    else:
        assert_refused("E5", attempt_activation(world, card, chip), card)
        assert chip.calls == []


# ===========================================================================================
# E3: whoever ordered or holds a card does not hand it out or activate it
# ===========================================================================================


@pytest.mark.parametrize("path", ["activate", "hand_out"])
@pytest.mark.parametrize(
    ("who", "because"),
    [("orderer", "You ordered this card"), ("holder", "This is your own card")],
)
def test_whoever_ordered_or_holds_the_card_cannot_complete_it(world, path, who, because):
    conflicted = getattr(world, who)  # the manager who ordered it, or Erik who will hold it
    grant(conflicted, Role.ID_ADMIN)
    if path == "activate":
        card, now = sent(world, "photo", NEW, NEW), NEW
    else:
        card, now = awaiting_pickup(world, card_type="photo"), t.LAST_PICKUP_DAY

    def complete(by: User) -> Card:
        if path == "activate":
            return cards.activate(
                actor=by,
                now=now,
                chip=RecordingChip(),
                activations={card.pk: cards.Activation(PASSPORT, PIN)},
            ).one()
        return cards.hand_out(actor=by, now=now, documents={card.pk: PASSPORT}).one()

    error = assert_refused("E3", lambda: complete(conflicted), card)
    assert because in error.en
    assert complete(world.id_admin_2).state == "active"
    assert refreshed(card).activated_by == world.id_admin_2


# ===========================================================================================
# block
# ===========================================================================================


@pytest.mark.parametrize(
    "name",
    ["holder", "orderer", "support", "id_admin", "issuer"],
    ids=["own-card", "manager", "support", "id-admin", "issuer"],
)
def test_block(world, name):
    card = activated(world, "photo", NEW, NEW)
    later = NEW + timedelta(days=3)
    cards.block(
        actor=actor(world, name),
        reason="lost",
        requested_by="Erik Eriksson",
        now=later,
        note="lost on the bus",
        card_ids=[card.pk],
    ).one()
    card = refreshed(card)
    assert (card.state, card.closed_at) == ("blocked", later)
    block = Block.objects.get(card=card)
    assert (block.reason, block.requested_by, block.registered_by, block.note) == (
        "lost",
        "Erik Eriksson",
        actor(world, name),
        "lost on the bus",
    )
    entry = AuditEntry.objects.order_by("seq").last()
    assert (entry.action, entry.before["state"], entry.after["state"]) == (
        "block",
        "active",
        "blocked",
    )
    assert (entry.after["reason"], entry.after["requested_by"]) == ("lost", "Erik Eriksson")
    assert audit.verify_trail() == []


@pytest.mark.parametrize("now", FREEZE, ids=FREEZE_IDS)
def test_a_block_is_taken_during_the_stop(world, now):
    card = awaiting_pickup(world)
    cards.block(
        actor=world.support, reason="stolen", requested_by="Erik", now=now, card_ids=[card.pk]
    ).one()
    assert refreshed(card).state == "blocked"
    assert Block.objects.get(card=card).registered_at == now
    assert audit.verify_trail() == []


@pytest.mark.parametrize("state", ["produced", "awaiting_pickup", "sent_inactive"])
def test_a_card_not_yet_in_use_can_be_blocked(world, state):
    card = awaiting_pickup(world) if state == "awaiting_pickup" else STATES[state](world, "photo")
    cards.block(
        actor=world.support, reason="damaged", requested_by="x", now=NEW, card_ids=[card.pk]
    ).one()
    assert refreshed(card).state == "blocked"


def test_a_holder_cannot_block_someone_elses_card(world):
    card = activated(world, "photo", NEW, NEW, person=colleague(world))
    assert_refused(
        "E10",
        lambda: cards.block(
            actor=world.holder, reason="lost", requested_by="Erik", now=NEW, card_ids=[card.pk]
        ).one(),
        card,
    )


def test_a_manager_cannot_block_the_card_of_someone_she_does_not_manage(world):
    boss = other_manager()
    stranger = factories.person(given="Pia", family="Främling", manager=boss.account.person)
    card = cards.order_cards(
        actor=boss, now=NEW, orders=[cards.NewOrder(stranger.pk, "reserve")]
    ).one()
    card = cards.produce(actor=world.issuer, now=NEW, card_ids=[card.pk]).one()
    assert_refused(
        "E10",
        lambda: cards.block(
            actor=world.orderer, reason="lost", requested_by="Maria", now=NEW, card_ids=[card.pk]
        ).one(),
        card,
    )


def test_an_account_without_roles_cannot_block(world):
    nobody = factories.staff("nobody", person=world.employee)
    card = activated(world, "photo", NEW, NEW)
    assert_refused(
        "E10",
        lambda: cards.block(
            actor=nobody, reason="lost", requested_by="Erik", now=NEW, card_ids=[card.pk]
        ).one(),
        card,
    )


def test_a_block_is_final(world):
    card = activated(world, "photo", NEW, NEW)
    cards.block(
        actor=world.holder, reason="lost", requested_by="Erik", now=NEW, card_ids=[card.pk]
    ).one()
    assert_refused(
        "E9",
        lambda: cards.block(
            actor=world.support, reason="stolen", requested_by="Erik", now=NEW, card_ids=[card.pk]
        ).one(),
        card,
    )
    assert Block.objects.get(card=card).reason == "lost"


@pytest.mark.parametrize("state", ["ordered", "photographed", "cancelled"])
def test_an_order_is_cancelled_not_blocked(world, state):
    if state == "cancelled":
        card = ordered(world, "photo", NEW)
        cards.cancel_order(actor=world.orderer, now=NEW, card_ids=[card.pk]).one()
    else:
        card = STATES[state](world, "photo")
    assert_refused(
        "E1",
        lambda: cards.block(
            actor=world.support, reason="lost", requested_by="Erik", now=NEW, card_ids=[card.pk]
        ).one(),
        card,
    )


@pytest.mark.parametrize(
    ("reason", "requested_by"), [("forgot", "Erik"), ("", "Erik"), ("lost", "   ")]
)
def test_block_input_errors(world, reason, requested_by):
    card = activated(world, "photo", NEW, NEW)
    assert_rejected(
        InvalidInput,
        lambda: cards.block(
            actor=world.support,
            reason=reason,
            requested_by=requested_by,
            now=NEW,
            card_ids=[card.pk],
        ).one(),
        card,
    )


# ===========================================================================================
# order_pin_letter (R14-R16)
# ===========================================================================================


def legacy_photo_card(w: World) -> Card:
    """A photo card issued before 2023-12-18 and collected on the legacy path (R15)."""
    return handed_out(w, "photo", t.LEGACY_COMPANY, t.LEGACY_COMPANY)


@pytest.mark.parametrize(
    ("card", "name"),
    [
        ("portrait", "holder"),
        ("portrait", "support"),
        ("portrait", "id_admin"),
        ("legacy", "holder"),
    ],
)
def test_order_pin_letter(world, card, name):
    card = activated(world, "photo", NEW, NEW) if card == "portrait" else legacy_photo_card(world)
    before = refreshed(card).state
    later = NEW + timedelta(days=10)
    letter = cards.order_pin_letter(
        actor=actor(world, name), now=later, card_ids=[card.pk]
    ).one_made()
    assert (letter.kind, letter.card, letter.person, letter.queued_at) == (
        "pin_puk_letter",
        card,
        world.employee,
        later,
    )
    assert (letter.street_address, letter.postal_code, letter.postal_town) == (
        "Storgatan 1",
        "80320",
        "Gävle",
    )
    assert refreshed(card).state == before == "active"
    entry = AuditEntry.objects.order_by("seq").last()
    assert (entry.action, entry.after["letter_id"]) == ("order_pin_letter", letter.pk)
    assert audit.verify_trail() == []


@pytest.mark.parametrize(
    "name", ["issuer", "orderer"], ids=["no-role", "manager-is-not-the-holder"]
)
def test_a_pin_letter_is_ordered_by_the_holder_or_for_them(world, name):
    card = activated(world, "photo", NEW, NEW)
    assert_refused(
        "E10",
        lambda: cards.order_pin_letter(
            actor=actor(world, name), now=NEW, card_ids=[card.pk]
        ).one_made(),
        card,
    )


def test_a_holder_cannot_order_a_letter_for_someone_elses_card(world):
    card = activated(world, "photo", NEW, NEW, person=colleague(world))
    assert_refused(
        "E10",
        lambda: cards.order_pin_letter(actor=world.holder, now=NEW, card_ids=[card.pk]).one_made(),
        card,
    )


@pytest.mark.parametrize("path", ["home", "legacy"])
def test_no_code_letter_for_a_reserve_card(world, path):
    if path == "home":
        card = activated(world, "reserve", NEW, NEW)
    else:
        card = handed_out(world, "reserve", t.RESERVE_ONLY, t.LAST_PICKUP_DAY)
    assert_refused(
        "R16",
        lambda: cards.order_pin_letter(actor=world.holder, now=NEW, card_ids=[card.pk]).one_made(),
        card,
    )


def test_a_pin_letter_is_for_an_active_card(world):
    card = sent(world, "photo", NEW, NEW)
    assert_refused(
        "E1",
        lambda: cards.order_pin_letter(actor=world.holder, now=NEW, card_ids=[card.pk]).one_made(),
        card,
    )


@pytest.mark.parametrize(("generation", "rule_id"), [("portrait-2024", "R14"), ("legacy", "R15")])
def test_no_second_pin_letter_while_one_is_still_queued(world, generation, rule_id):
    """One PIN/PUK letter of a card in the print queue at a time, whoever orders it: a second
    would be another copy of the PUK on its way. Once printed, a new one may be ordered."""
    card = activated(world, "photo", NEW, NEW)
    Card.objects.filter(pk=card.pk).update(generation=generation)
    first = cards.order_pin_letter(actor=world.holder, now=NEW, card_ids=[card.pk]).one_made()
    for name in ("holder", "support", "id_admin"):
        refused = assert_refused(
            rule_id,
            lambda name=name: cards.order_pin_letter(
                actor=actor(world, name), now=NEW, card_ids=[card.pk]
            ).one_made(),
            card,
        )
        assert "print queue" in refused.en
    Letter.objects.filter(pk=first.pk).update(printed_at=NEW)
    later = NEW + timedelta(days=1)
    second = cards.order_pin_letter(actor=world.holder, now=later, card_ids=[card.pk]).one_made()
    assert second.pk != first.pk and second.printed_at is None


def test_a_pin_letter_needs_a_registered_address(world):
    card = activated(world, "photo", NEW, NEW)
    Person.objects.filter(pk=world.employee.pk).update(street_address="")  # moved abroad
    assert_refused(
        "R14",
        lambda: cards.order_pin_letter(actor=world.holder, now=NEW, card_ids=[card.pk]).one_made(),
        card,
    )


# ===========================================================================================
# unlock_pin (R14-R16)
# ===========================================================================================


def test_unlock_pin_of_a_new_photo_card_at_the_office(world):
    card, chip = activated(world, "photo", NEW, NEW), RecordingChip()
    later = NEW + timedelta(days=20)
    cards.unlock_pin(actor=world.id_admin, now=later, chip=chip, new_pins={card.pk: NEW_PIN}).one()
    card = refreshed(card)
    assert card.state == "active"
    assert chip.calls == [("unlock_pin", card.number, NEW_PIN)]
    entry = AuditEntry.objects.order_by("seq").last()
    assert (entry.action, entry.at, entry.after["pin_set"]) == ("unlock_pin", later, True)
    assert NEW_PIN not in audit_text() and PIN not in audit_text()
    assert audit.verify_trail() == []


def attempt_unlock(
    w: World, card: Card, chip: RecordingChip, *, by: User | None = None, pin: object = NEW_PIN
) -> Callable[[], object]:
    return lambda: cards.unlock_pin(
        actor=w.id_admin if by is None else by, now=NEW, chip=chip, new_pins={card.pk: pin}
    ).one()


@pytest.mark.parametrize("name", ["holder", "support", "issuer", "orderer"])
def test_unlock_needs_an_id_admin(world, name):
    card, chip = activated(world, "photo", NEW, NEW), RecordingChip()
    assert_refused("E10", attempt_unlock(world, card, chip, by=actor(world, name)), card)
    assert chip.calls == []


UNLOCK_REFUSALS = {
    # R15: issued before 2023-12-18, the PUK from a PIN/PUK letter is needed.
    "legacy-photo": (legacy_photo_card, "R15"),
    # R16: a reserve card is unlocked with the PUK from its envelope, of either generation.
    "reserve-home": (lambda w: activated(w, "reserve", NEW, NEW), "R16"),
    "reserve-legacy": (lambda w: handed_out(w, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY), "R16"),
    # A card not yet active has no PIN to unlock.
    "photo-not-activated": (lambda w: sent(w, "photo", NEW, NEW), "E1"),
}


@pytest.mark.parametrize("case", list(UNLOCK_REFUSALS))
def test_office_unlock_refused(world, case):
    build, rule = UNLOCK_REFUSALS[case]
    card, chip = build(world), RecordingChip()
    assert_refused(rule, attempt_unlock(world, card, chip), card)
    assert chip.calls == []


# ===========================================================================================
# E6: the PIN is checked before anything else and never written down
# ===========================================================================================

BAD_PINS = [
    pytest.param("12345", InvalidInput, id="too-short"),
    pytest.param("abcdef", InvalidInput, id="letters"),
    pytest.param("123456789", InvalidInput, id="too-long"),
    pytest.param(402918, InvalidInput, id="not-text"),
    pytest.param("111111", Refused, id="one-digit-repeated"),
    pytest.param("987654", Refused, id="straight-run"),
]


@pytest.mark.parametrize(("pin", "error"), BAD_PINS)
@pytest.mark.parametrize("service", ["activate", "unlock_pin"])
def test_a_bad_pin_is_refused_before_any_change(world, service, pin, error):
    if service == "activate":
        card = sent(world, "photo", NEW, NEW)
        attempt = attempt_activation
    else:
        card = activated(world, "photo", NEW, NEW)
        attempt = attempt_unlock
    chip = RecordingChip()
    # A holder has no right to do either: the PIN is checked even before the role.
    raised = assert_rejected(error, attempt(world, card, chip, by=world.holder, pin=pin), card)
    if error is Refused:
        assert raised.rule == "E6"
    assert str(pin) not in str(raised)
    assert chip.calls == []
    assert str(pin) not in audit_text()
    assert audit.verify_trail() == []


def test_the_pin_never_reaches_the_audit_trail(world):
    card = sent(world, "photo", NEW, NEW)
    chip = RecordingChip()
    for bad in ("12345", "111111"):
        with pytest.raises((InvalidInput, Refused)):
            attempt_activation(world, card, chip, pin=bad)()
    attempt_activation(world, card, chip)()
    attempt_unlock(world, card, chip)()
    assert chip.calls == [("set_pin", card.number, PIN), ("unlock_pin", card.number, NEW_PIN)]
    text = audit_text()
    assert history(card) == ["order", "photograph", "produce", "send", "activate", "unlock_pin"]
    for secret in (PIN, NEW_PIN, "12345", "111111"):
        assert secret not in text
    assert audit.verify_trail() == []


# ===========================================================================================
# Every service: unknown card, naive time
# ===========================================================================================

# Each call is made by an account that may make it, with otherwise valid input.
CARD_SERVICES: dict[str, Callable[[World, int, datetime], object]] = {
    "cancel_order": lambda w, card_id, now: cards.cancel_order(
        actor=w.orderer, now=now, card_ids=[card_id]
    ).one(),
    "replace_card": lambda w, card_id, now: cards.replace_card(
        actor=w.orderer, reason="damaged", now=now, card_ids=[card_id]
    ).one(),
    "photograph": lambda w, card_id, now: cards.photograph(
        actor=w.id_admin, now=now, photos={card_id: JPEG}
    ).one(),
    "produce": lambda w, card_id, now: cards.produce(
        actor=w.issuer, now=now, card_ids=[card_id]
    ).one(),
    "send": lambda w, card_id, now: cards.send(actor=w.issuer, now=now, card_ids=[card_id]).one(),
    "hand_out": lambda w, card_id, now: cards.hand_out(
        actor=w.id_admin, now=now, documents={card_id: PASSPORT}
    ).one(),
    "approve_hand_out": lambda w, card_id, now: cards.approve_hand_out(
        actor=w.id_admin_2, now=now, card_ids=[card_id]
    ).one(),
    "withdraw_hand_out": lambda w, card_id, now: cards.withdraw_hand_out(
        actor=w.id_admin, now=now, card_ids=[card_id]
    ).one(),
    "activate": lambda w, card_id, now: cards.activate(
        actor=w.id_admin,
        now=now,
        chip=RecordingChip(),
        activations={card_id: cards.Activation(PASSPORT, PIN)},
    ).one(),
    "approve_activation": lambda w, card_id, now: cards.approve_activation(
        actor=w.id_admin_2, now=now, chip=RecordingChip(), pins={card_id: PIN}
    ).one(),
    "block": lambda w, card_id, now: cards.block(
        actor=w.support, reason="lost", requested_by="Erik", now=now, card_ids=[card_id]
    ).one(),
    "order_pin_letter": lambda w, card_id, now: cards.order_pin_letter(
        actor=w.support, now=now, card_ids=[card_id]
    ).one_made(),
    "unlock_pin": lambda w, card_id, now: cards.unlock_pin(
        actor=w.id_admin, now=now, chip=RecordingChip(), new_pins={card_id: NEW_PIN}
    ).one(),
}


def test_every_card_service_is_listed():
    shapes = {"Activation", "DocumentShown", "MAX_SET", "NewOrder", "Outcome"}
    assert set(CARD_SERVICES) | {"order_cards"} | shapes == set(cards.__all__)


@pytest.mark.parametrize("service", list(CARD_SERVICES))
def test_an_unknown_card_is_not_found(world, service):
    card = activated(world, "photo", NEW, NEW)
    unknown = card.pk + 1000
    error = assert_rejected(NotFound, lambda: CARD_SERVICES[service](world, unknown, NEW), card)
    assert str(unknown) in str(error)


NAIVE = datetime(2024, 1, 31, 10)  # no time zone: the point of these tests


@pytest.mark.parametrize("service", list(CARD_SERVICES))
def test_a_time_without_zone_is_invalid_input(world, service):
    card = activated(world, "photo", NEW, NEW)
    assert_rejected(InvalidInput, lambda: CARD_SERVICES[service](world, card.pk, NAIVE), card)


def test_order_card_with_a_time_without_zone_is_invalid_input(world):
    assert_rejected(
        InvalidInput,
        lambda: cards.order_cards(
            actor=world.orderer, now=NAIVE, orders=[cards.NewOrder(world.employee.pk, "photo")]
        ).one(),
    )
