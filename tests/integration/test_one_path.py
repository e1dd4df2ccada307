"""One path per action: a set of N cards changed at once leaves the very rows and audit entries
that the same N cards changed one at a time leave, apart from ids, numbers and times.

Every card action (and each deadline sweep) is one service function over a set of cards; the
portal and the API call it with a set of one, `ekort bulk` and the jobs with thousands. Each
case below prepares 2N cards alike, changes N of them one by one and N in one call, and
compares what is stored: the card rows, their block records, letters, identity checks and
certificates, and the audit entries the change wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.forms.models import model_to_dict

from ekort.domain.timekeeping import local_date
from ekort.services import audit, cards, deadlines
from ekort.store.models import AuditEntry, Card, Person
from tests import factories
from tests import instants as t
from tests.factories import World
from tests.integration.journeys import (
    JPEG,
    PASSPORT,
    activated,
    ordered,
    photographed,
    produced,
    sent,
)

N = 3
NEW = t.NEW_PROCESS
LATER = NEW + timedelta(days=1)
LEGACY = t.LEGACY_COMPANY
LEGACY_PICKUP = LEGACY + timedelta(days=1)
RESERVE_PICKUP = t.RESERVE_ONLY + timedelta(hours=1)
UNLOCK_PIN = "583016"

# Values that differ between two runs of the same change: which row, which card number,
# which certificate, and when.
_VARYING_KEYS = {
    "id",
    "seq",
    "mac",
    "prev_mac",
    "object_id",
    "number",
    "card_number",
    "certificate_serial",
    "serial",
    "subject",
    "der",
    "puk_ciphertext",
    "letter_id",
    "recipient_name",
}


_ROW_LINKS = {"card", "person", "order", "identity_check", "issuer", "replaces", "bureau_batch"}
_CARD_NUMBER = re.compile(r"\b[0-9]{12,}\b")


def plain(value: Any, key: str = "") -> Any:
    """`value` with ids, numbers and times put as placeholders."""
    if key in _VARYING_KEYS or key.endswith(("_id", "_by")) or key in _ROW_LINKS:
        return "<id>"
    if key == "at" or key.endswith(("_at", "_until", "_deadline", "_on")):
        return "<time>" if value is not None else None
    if isinstance(value, dict):
        return {k: plain(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date | bytes | memoryview):
        return "<value>"
    if isinstance(value, str):
        return _CARD_NUMBER.sub("<number>", value)  # "replaces card 97522100000000011"
    return value


def _rows(queryset: Any) -> list[dict[str, Any]]:
    return sorted(
        (plain(model_to_dict(row)) for row in queryset), key=lambda r: json.dumps(r, default=str)
    )


def picture(card_ids: Sequence[int]) -> list[str]:
    """Each card with everything stored about it, ids and times put aside; sorted."""
    out = []
    for card in Card.objects.filter(pk__in=card_ids):
        block = getattr(card, "block", None)
        whole = {
            "card": plain(model_to_dict(card)),
            "block": None if block is None else plain(model_to_dict(block)),
            "letters": _rows(card.letters.all()),
            "checks": _rows(card.identity_checks.all()),
            "approvals": _rows(card.four_eyes_approvals.all()),
            "certificates": _rows(card.certificates.all()),
        }
        out.append(json.dumps(whole, sort_keys=True, default=str))
    return sorted(out)


def entries(after: int, up_to: int | None = None) -> list[str]:
    """The audit entries with a sequence number in (after, up_to], ids and times put aside;
    sorted."""
    rows = AuditEntry.objects.filter(seq__gt=after)
    if up_to is not None:
        rows = rows.filter(seq__lte=up_to)
    return sorted(
        json.dumps(
            plain(
                {
                    "actor": e.actor,
                    "action": e.action,
                    "object_type": e.object_type,
                    "object_id": e.object_id,
                    "reason": e.reason,
                    "before": e.before,
                    "after": e.after,
                }
            ),
            sort_keys=True,
        )
        for e in rows
    )


def last_seq() -> int:
    entry = AuditEntry.objects.order_by("-seq").first()
    return entry.seq if entry else 0


@dataclass(frozen=True)
class Case:
    """Prepare one card (or person) for `person`; change a set of them; which cards to look at
    afterwards (the new cards of an order or a replacement)."""

    prepare: Callable[[World, Person], Any]
    change: Callable[[World, list[Any]], Sequence[int]]


def _ids(items: list[Any]) -> list[int]:
    return [item.pk for item in items]


def _done(outcome: cards.Outcome, expected: int) -> list[int]:
    assert outcome.refused == {}, outcome.refused
    assert len(outcome.done) == expected
    return outcome.done


def _sweep(name: str, at: datetime) -> Callable[[World, list[Any]], Sequence[int]]:
    sweep = next(s for s in deadlines.SWEEPS if s.name == name)

    def change(w: World, items: list[Any]) -> Sequence[int]:
        assert deadlines.sweep_chunk(sweep, _ids(items), at) == len(items)
        return _ids(items)

    return change


def _legacy_sent(w: World, p: Person) -> Card:
    return sent(w, "photo", LEGACY, LEGACY, person=p)


def _registered_hand_out(w: World, p: Person) -> Card:
    """A reserve card at LoA3, its hand-out registered by a first administrator (E11)."""
    card = sent(w, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY, person=p)
    return cards.hand_out(actor=w.id_admin, now=RESERVE_PICKUP, documents={card.pk: PASSPORT}).one()


def _renewal_sent(w: World, p: Person, card_type: str = "photo") -> Card:
    """A card that replaces the holder's active one for a reason that leaves the old card
    usable until the new one is activated (E12), produced and sent home."""
    old = activated(w, card_type, NEW, NEW, person=p)
    new = cards.replace_card(actor=w.orderer, now=LATER, card_ids=[old.pk], reason="damaged").one()
    if card_type == "photo":
        cards.photograph(actor=w.id_admin, now=LATER, photos={new.pk: JPEG}).one()
    cards.produce(actor=w.issuer, now=LATER, card_ids=[new.pk]).one()
    return cards.send(actor=w.issuer, now=LATER, card_ids=[new.pk]).one()


def _with_replaced(ids: Sequence[int]) -> list[int]:
    """The cards and the cards they replace, whose block the activation wrote."""
    olds = Card.objects.filter(pk__in=ids).values_list("order__replaces_id", flat=True)
    return [*ids, *olds]


def _registered_activation(w: World, p: Person) -> Card:
    card = sent(w, "reserve", NEW, NEW, person=p)
    activation = {card.pk: cards.Activation(PASSPORT)}
    return cards.activate(actor=w.id_admin, now=LATER, activations=activation).one()


CASES: dict[str, Case] = {
    "order": Case(
        lambda w, p: p,
        lambda w, ps: _done(
            cards.order_cards(
                actor=w.orderer, now=NEW, orders=[cards.NewOrder(p.pk, "photo") for p in ps]
            ),
            len(ps),
        ),
    ),
    "cancel": Case(
        lambda w, p: ordered(w, "photo", NEW, person=p),
        lambda w, cs: _done(
            cards.cancel_order(actor=w.orderer, now=LATER, card_ids=_ids(cs), reason="fel"),
            len(cs),
        ),
    ),
    "replace": Case(
        lambda w, p: activated(w, "photo", NEW, NEW, person=p),
        lambda w, cs: (
            _done(
                cards.replace_card(actor=w.orderer, now=LATER, card_ids=_ids(cs), reason="damaged"),
                len(cs),
            )
            + _ids(cs)
        ),
    ),
    "replace_lost": Case(
        lambda w, p: activated(w, "photo", NEW, NEW, person=p),
        lambda w, cs: (
            _done(
                cards.replace_card(actor=w.orderer, now=LATER, card_ids=_ids(cs), reason="lost"),
                len(cs),
            )
            + _ids(cs)
        ),
    ),
    "activate_renewal": Case(
        _renewal_sent,
        lambda w, cs: _with_replaced(
            _done(
                cards.activate(
                    actor=w.id_admin,
                    now=LATER + timedelta(days=1),
                    activations={c.pk: cards.Activation(PASSPORT, "402918") for c in cs},
                ),
                len(cs),
            )
        ),
    ),
    "approve_activation_renewal": Case(
        lambda w, p: cards.activate(
            actor=w.id_admin,
            now=LATER,
            activations={_renewal_sent(w, p, "reserve").pk: cards.Activation(PASSPORT)},
        ).one(),
        lambda w, cs: _with_replaced(
            _done(
                cards.approve_activation(
                    actor=w.id_admin_2, now=LATER, pins={c.pk: "402918" for c in cs}
                ),
                len(cs),
            )
        ),
    ),
    "photograph": Case(
        lambda w, p: ordered(w, "photo", NEW, person=p),
        lambda w, cs: _done(
            cards.photograph(actor=w.id_admin, now=NEW, photos={c.pk: JPEG for c in cs}), len(cs)
        ),
    ),
    "produce": Case(
        lambda w, p: photographed(w, NEW, NEW, person=p),
        lambda w, cs: _done(cards.produce(actor=w.issuer, now=NEW, card_ids=_ids(cs)), len(cs)),
    ),
    "send": Case(
        lambda w, p: produced(w, "photo", NEW, NEW, person=p),
        lambda w, cs: _done(cards.send(actor=w.issuer, now=NEW, card_ids=_ids(cs)), len(cs)),
    ),
    "hand_out": Case(
        _legacy_sent,
        lambda w, cs: _done(
            cards.hand_out(
                actor=w.id_admin, now=LEGACY_PICKUP, documents={c.pk: PASSPORT for c in cs}
            ),
            len(cs),
        ),
    ),
    "approve_hand_out": Case(
        _registered_hand_out,
        lambda w, cs: _done(
            cards.approve_hand_out(actor=w.id_admin_2, now=RESERVE_PICKUP, card_ids=_ids(cs)),
            len(cs),
        ),
    ),
    "withdraw_hand_out": Case(
        _registered_hand_out,
        lambda w, cs: _done(
            cards.withdraw_hand_out(
                actor=w.id_admin_2, now=RESERVE_PICKUP, card_ids=_ids(cs), reason="fel nummer"
            ),
            len(cs),
        ),
    ),
    "approve_activation": Case(
        _registered_activation,
        lambda w, cs: _done(
            cards.approve_activation(
                actor=w.id_admin_2, now=LATER, pins={c.pk: "402918" for c in cs}
            ),
            len(cs),
        ),
    ),
    "activate": Case(
        lambda w, p: sent(w, "photo", NEW, NEW, person=p),
        lambda w, cs: _done(
            cards.activate(
                actor=w.id_admin,
                now=LATER,
                activations={c.pk: cards.Activation(PASSPORT, "402918") for c in cs},
            ),
            len(cs),
        ),
    ),
    "block": Case(
        lambda w, p: activated(w, "photo", NEW, NEW, person=p),
        lambda w, cs: _done(
            cards.block(
                actor=w.support,
                now=LATER,
                card_ids=_ids(cs),
                reason="lost",
                requested_by="the holder",
                note="lost on the bus",
            ),
            len(cs),
        ),
    ),
    "pin_letter": Case(
        lambda w, p: activated(w, "photo", NEW, NEW, person=p),
        lambda w, cs: _done(
            cards.order_pin_letter(actor=w.support, now=LATER, card_ids=_ids(cs)), len(cs)
        ),
    ),
    "unlock_pin": Case(
        lambda w, p: activated(w, "photo", NEW, NEW, person=p),
        lambda w, cs: _done(
            cards.unlock_pin(actor=w.id_admin, now=LATER, new_pins={c.pk: UNLOCK_PIN for c in cs}),
            len(cs),
        ),
    ),
    "sweep_not_collected": Case(_legacy_sent, _sweep("not_collected", t.STOP_START)),
    "sweep_not_activated": Case(
        lambda w, p: sent(w, "photo", NEW, NEW, person=p),
        _sweep("not_activated", t.AFTER_ACTIVATION_WINDOW),
    ),
    "sweep_expired": Case(
        lambda w, p: activated(w, "photo", NEW, NEW, person=p),
        _sweep("expired", NEW + timedelta(days=5 * 366)),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_set_at_once_leaves_what_the_same_cards_one_at_a_time_leave(world, name):
    case = CASES[name]
    people = [factories.person(manager=world.manager, unit=world.unit) for _ in range(2 * N)]
    prepared = [case.prepare(world, person) for person in people]
    one_by_one, at_once = prepared[:N], prepared[N:]

    start = last_seq()
    singles = [pk for item in one_by_one for pk in case.change(world, [item])]
    middle = last_seq()
    together = list(case.change(world, at_once))
    assert len(singles) == len(together) >= N

    assert picture(singles) == picture(together)
    one_at_a_time = entries(start, middle)
    assert len(one_at_a_time) >= N
    assert one_at_a_time == entries(middle)
    assert audit.verify_trail() == []


def test_the_expiry_sweep_instant_is_past_the_cards_validity(world):
    card = activated(world, "photo", NEW, NEW)
    assert card.valid_until is not None
    assert card.valid_until < local_date(NEW + timedelta(days=5 * 366))


def test_a_sweeps_block_is_the_block_a_person_makes(world):
    """The R8 sweep blocks with the very change `cards.block` makes: the same block record and
    the same audit entry, by the job, with the rule as the note."""
    by_hand, overdue = (
        sent(world, "photo", NEW, NEW, person=factories.person(manager=world.manager))
        for _ in range(2)
    )
    cards.block(
        actor=world.support,
        now=t.AFTER_ACTIVATION_WINDOW,
        card_ids=[by_hand.pk],
        reason="not_activated",
        requested_by="job:not_activated",
        note="Deadline passed (R8).",
    ).one()
    sweep = next(s for s in deadlines.SWEEPS if s.name == "not_activated")
    assert deadlines.sweep_chunk(sweep, [overdue.pk], t.AFTER_ACTIVATION_WINDOW) == 1

    def record(card: Card) -> dict[str, Any]:
        block = plain(model_to_dict(Card.objects.get(pk=card.pk).block))
        [entry] = AuditEntry.objects.filter(object_id=str(card.pk), action="block")
        return {"block": block, "entry": plain({"after": entry.after, "reason": entry.reason})}

    person, job = record(by_hand), record(overdue)
    assert person == job
    assert set(job["entry"]["after"]) == {
        "state",
        "closed_at",
        "reason",
        "requested_by",
        "card_number",
    }
    actors = AuditEntry.objects.filter(action="block").order_by("seq").values_list("actor")
    assert list(actors) == [("support",), ("job:not_activated",)]
