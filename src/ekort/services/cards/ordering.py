"""Ordering cards, cancelling orders, and replacing cards."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from ekort.domain.errors import DomainError, InvalidInput, NotFound
from ekort.domain.identifiers import IdentityKind
from ekort.domain.lifecycle import LIVE_STATES, OCCUPYING_STATES, CardAction, CardState, next_state
from ekort.domain.orders import SlotCard, decide_free_slot, decide_orderer, slot_taken
from ekort.domain.people_register import decide_employment
from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.renewal import BLOCKS_AT_ONCE, decide_replacement, replacement_reason
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import AssuranceLevel, CardType, ReplacementReason, Role
from ekort.store.models import Card, CardOrder, Person

from .. import audit
from ..policy import current_calendar
from ..renewals import last_days
from ..roles import actor_label, person_id_of, require_role
from . import bureau
from .blocking import blocked
from .card_sets import (
    MAX_SET,
    CardRef,
    Outcome,
    card_change,
    locked_cards,
    move,
    save,
    snapshot,
)


@dataclass(frozen=True)
class NewOrder:
    """One card to order: for whom, which type, and a note for the card office."""

    person_id: int
    card_type: object
    note: str = ""


def _require_manager(actor: Any, person: Person) -> None:
    decide_orderer(person_id_of(actor), person.manager_id, person.full_name).require()


def _require_employed(person: Person, now: datetime) -> None:
    """E13: no card, new or in place of another, for someone whose employment has ended."""
    decide_employment(person.employment_ends, now).require()


def _require_free_slot(person: Person, card_type: CardType, replacing: Card | None) -> None:
    """E8: no other card of the type ordered or in use; a card on its way out beside the
    renewal that replaces it counts once (`orders.slot_taken`)."""
    rows = Card.objects.filter(
        person=person, card_type=card_type, state__in=OCCUPYING_STATES
    ).values_list("pk", "state", "order__replaces_id")
    taken = slot_taken(
        [SlotCard(*row) for row in rows], replacing=None if replacing is None else replacing.pk
    )
    decide_free_slot(card_type, taken).require()


def _assurance_level(person: Person) -> AssuranceLevel:
    # docs/domain-notes.md: samordningsnummer holders and persons without a registered address
    # get LoA2.
    if person.identity_kind == IdentityKind.SAMORDNINGSNUMMER or not person.has_registered_address:
        return AssuranceLevel.LOA2
    return AssuranceLevel.LOA3


def _card_type(value: object) -> CardType:
    try:
        return CardType(str(value))
    except ValueError:
        kinds = ", ".join(CardType)
        raise InvalidInput(f"Unknown card type; use one of {kinds}.") from None


def _create(
    actor: Any,
    person: Person,
    card_type: CardType,
    now: datetime,
    note: str,
    replaces: Card | None,
    why: ReplacementReason | None = None,
) -> tuple[Card, audit.Change]:
    order = CardOrder.objects.create(
        person=person,
        card_type=card_type,
        ordered_by=actor,
        ordered_at=now,
        replaces=replaces,
        replacement_reason="" if why is None else why.value,
        note=note[:500],
    )
    card = Card.objects.create(
        order=order,
        person=person,
        card_type=card_type,
        assurance_level=_assurance_level(person),
    )
    after = snapshot(card, "card_type", "assurance_level")
    if why is not None:
        after["replacement_reason"] = why.value
    return card, card_change(actor, "order", card, now, {}, after, reason=note[:500])


def _locked_persons(person_ids: Collection[int]) -> dict[int, Person]:
    # Locking the persons settles two managers ordering for one person at once (E8).
    ids = sorted(set(person_ids))
    return {
        p.pk: p for p in Person.objects.select_for_update().filter(pk__any_of=ids).order_by("pk")
    }


def order_cards(*, actor: Any, orders: Sequence[NewOrder], now: datetime) -> Outcome:
    """A manager orders photo or reserve cards for the persons they manage (E2, R1-R4, E8).
    Refusals are by the order's position in `orders`."""
    require_aware(now)
    if len(orders) > MAX_SET:
        raise InvalidInput(f"At most {MAX_SET} orders at a time, not {len(orders)}.")
    kinds = [_card_type(order.card_type) for order in orders]
    require_role(actor, Role.ORDERER)
    calendar = current_calendar()
    outcome = Outcome()
    changes = []
    with transaction.atomic():
        persons = _locked_persons([order.person_id for order in orders])
        for position, (order, kind) in enumerate(zip(orders, kinds, strict=True)):
            try:
                person = persons.get(order.person_id)
                if person is None:
                    raise NotFound(f"There is no person with id {order.person_id}.")
                _require_manager(actor, person)
                _require_employed(person, now)
                calendar.decide(PolicyAction.ORDER, kind, now).require()
                _require_free_slot(person, kind, replacing=None)
            except DomainError as refusal:
                outcome.refused[position] = refusal
                continue
            card, change = _create(actor, person, kind, now, order.note, replaces=None)
            outcome.done.append(card.pk)
            changes.append(change)
        audit.append(changes)
    return outcome


def cancel_order(
    *, actor: Any, card_ids: Collection[int], now: datetime, reason: str = ""
) -> Outcome:
    """Withdraw orders before production; the holder's manager does (E2). A photo kept for
    the card is deleted."""
    require_aware(now)
    require_role(actor, Role.ORDERER)
    outcome = Outcome()
    with transaction.atomic():

        def check(card: Card) -> None:
            _require_manager(actor, card.person)
            next_state(CardState(card.state), CardAction.CANCEL, CardType(card.card_type))  # E1

        cards = outcome.sift(locked_cards(card_ids, outcome), check)
        audit.append(cancelled(actor, cards, now, reason))
    outcome.done = [card.pk for card in cards]
    return outcome


def cancelled(actor: Any, cards: Sequence[Card], now: datetime, reason: str) -> list[audit.Change]:
    """Withdraw the orders of `cards` (locked, not produced yet): closed at `now`, a photo kept
    for one deleted, as it will never reach the card bureau. The audit entries, for the caller
    to append. The one writer of a cancellation: a manager's (`cancel_order`) and the people
    register's when an employment ends (E13)."""
    befores = {card.pk: snapshot(card) for card in cards}
    for card in cards:
        move(card, CardAction.CANCEL)
        card.closed_at = now
    save(cards, ["state", "closed_at"])
    deleted = bureau.delete_photos([card.pk for card in cards])
    return [
        card_change(
            actor,
            "cancel",
            card,
            now,
            befores[card.pk],
            {
                **snapshot(card, "closed_at"),
                **({"photo_deleted": True} if card.pk in deleted else {}),
            },
            reason,
        )
        for card in cards
    ]


def replace_card(
    *,
    actor: Any,
    card_ids: Collection[int],
    now: datetime,
    reason: object,
    note: str = "",
) -> Outcome:
    """Order a new card in place of each old one; the new card links to the old one and is in
    `done`. What becomes of a live old card depends on the reason (E12): lost, stolen or
    suspected misuse block it in this transaction, with that reason; for any other reason it
    stays usable until the new card is activated, which blocks it then (`succession`). A
    renewal (reason "expiring") is taken from the calendar's days before the old card's last
    day. An old card already blocked or expired keeps its state and its original reason."""
    require_aware(now)
    why = replacement_reason(reason)
    require_role(actor, Role.ORDERER)
    calendar = current_calendar()
    today = local_date(now)
    outcome = Outcome()
    with transaction.atomic():
        olds = locked_cards(card_ids, outcome)
        persons = _locked_persons([old.person_id for old in olds])
        ends = last_days(olds)

        def check(old: Card) -> None:
            person = persons[old.person_id]
            _require_manager(actor, person)
            _require_employed(person, now)
            kind = CardType(old.card_type)
            calendar.decide(PolicyAction.ORDER, kind, now).require()
            # E1 for a card never issued
            next_state(CardState(old.state), CardAction.REPLACE, CardType(old.card_type))
            _require_free_slot(person, kind, replacing=old)
            decide_replacement(
                why, ends[old.pk], today, renewal_days=calendar.renewal_days
            ).require()

        olds = outcome.sift(olds, check)
        changes: list[audit.Change] = []
        block_now = BLOCKS_AT_ONCE.get(why)
        if block_now is not None:
            live = [CardRef(o.pk, o.state, o.number) for o in olds if o.state in LIVE_STATES]
            requester = actor_label(actor)
            changes += blocked(
                actor, live, CardAction.REPLACE, block_now, requester, f"replaced: {note}", now
            )
        for old in olds:
            text = note or f"replaces card {old.number}"
            card, change = _create(
                actor, persons[old.person_id], CardType(old.card_type), now, text, old, why
            )
            outcome.done.append(card.pk)
            changes.append(change)
        audit.append(changes)
    return outcome
