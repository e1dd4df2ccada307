"""Producing and sending many cards in one transaction: `ekort bulk ... --chunk N`.

Each card meets the same guards, moves along the same lifecycle table and gets the same audit
entry as through `produce` and `send` (their steps are shared, not copied); what changes is
that the rows of a whole chunk are written in a few statements. A refused card is left
untouched and reported; the others go on. Anything else that goes wrong undoes the whole chunk:
every card of it is then untouched, as after a killed process.

Chunks may run side by side (`--workers N`), so a chunk holds the shared locks briefly. Its
card numbers are reserved before its transaction (`production.reserve_card_numbers`): a number
it did not use (a refused card, an undone chunk) is left out of the series, as a spoiled chip's
number is. The audit head is locked by the chunk's last statement, just before the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count

from ekort.domain.errors import DomainError, NotFound
from ekort.domain.lifecycle import CardAction
from ekort.domain.policy_calendar import PolicyAction, PolicyCalendar
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import CardType, Role
from ekort.store.bulk import insert_rows, update_rows, with_ids
from ekort.store.models import Card, Letter

from .. import audit
from ..ca import issuance, status
from ..policy import current_calendar
from ..roles import require_role
from ._common import move, snapshot
from .production import (
    LETTER_COLUMNS,
    PRODUCED_FIELDS,
    SENT_FIELDS,
    check_producible,
    letter_values,
    mark_produced,
    mark_sent,
    next_card_numbers,
    produced_change,
    reserve_card_numbers,
    sent_change,
)

MAX_CHUNK = 5000


@dataclass
class BatchOutcome:
    """The cards done, in id order, and the refusal of each card that was not."""

    done: list[int] = field(default_factory=list)
    refused: dict[int, DomainError] = field(default_factory=dict)


def _distinct(card_ids: Sequence[int]) -> list[int]:
    ids = sorted(set(card_ids))
    if len(ids) > MAX_CHUNK:
        raise ValueError(f"At most {MAX_CHUNK} cards per batch, not {len(ids)}.")
    return ids


def _locked_cards(card_ids: Sequence[int], outcome: BatchOutcome) -> list[Card]:
    """The cards, locked in id order (so that two batches never wait on each other in a
    circle); an unknown id is refused as NotFound."""
    ids = _distinct(card_ids)
    cards = list(
        Card.objects.select_for_update(of=("self",))
        .select_related("person")  # for the certificate and the letters; the order is not read
        .filter(pk__in=ids)
        .order_by("pk")
    )
    found = {card.pk for card in cards}
    for pk in ids:
        if pk not in found:
            outcome.refused[pk] = NotFound(f"There is no card with id {pk}.")
    return cards


def _save(cards: list[Card], shared: list[str], own: list[str]) -> None:
    """Save `shared` fields (the same for most cards of a batch: state, dates) with one UPDATE
    per distinct set of values, and `own` fields (card number, sealed PUK) with one statement
    for all (`update_rows`: Django's bulk update writes a CASE per field and row)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for card in cards:
        groups.setdefault(tuple(getattr(card, name) for name in shared), []).append(card.pk)
    for values, ids in groups.items():
        with_ids(Card.objects.all(), "id", ids).update(**dict(zip(shared, values, strict=True)))
    if own:
        rows = [(card.pk, *(getattr(card, name) for name in own)) for card in cards]
        update_rows(Card, own, rows)


def _issuable(card_ids: Sequence[int], calendar: PolicyCalendar, now: datetime) -> int:
    """How many of the cards are of a type the calendar lets be issued at `now`: the card
    numbers to reserve. A card refused for another reason (its state, its holder) leaves its
    number unused; one that became ready since is numbered in the batch's transaction."""
    counts = (
        Card.objects.filter(pk__in=_distinct(card_ids))
        .values_list("card_type")
        .annotate(n=Count("pk"))
    )
    return sum(
        n for kind, n in counts if calendar.decide(PolicyAction.ISSUE, CardType(kind), now).allowed
    )


def produce_batch(*, actor: Any, card_ids: Sequence[int], now: datetime) -> BatchOutcome:
    """`produce` for each card, in one transaction."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN)
    calendar = current_calendar()
    outcome = BatchOutcome()
    numbers = reserve_card_numbers(_issuable(card_ids, calendar, now))  # before the transaction
    with transaction.atomic():
        ready: list[Card] = []
        before: dict[int, dict[str, Any]] = {}
        for card in _locked_cards(card_ids, outcome):
            try:
                check_producible(card, calendar, now)
                issuance.check_holder(card)  # R11, before any chip is touched
                before[card.pk] = snapshot(card)
                move(card, CardAction.PRODUCE)
            except DomainError as refusal:
                outcome.refused[card.pk] = refusal
                continue
            ready.append(card)
        if not ready:
            return outcome
        if len(ready) > len(numbers):  # a card became ready since they were counted (rare)
            numbers += next_card_numbers(len(ready) - len(numbers))
        for card, number in zip(ready, numbers, strict=False):  # the rest stay unused
            mark_produced(card, number, calendar, now)
        personalised = issuance.personalise_many(ready, now)
        numbered = ["number", "puk_ciphertext"]
        _save(ready, [f for f in PRODUCED_FIELDS if f not in numbered], numbered)
        changes = [
            produced_change(actor, card, now, before[card.pk], serial)
            for card, serial in zip(ready, personalised.serials, strict=True)
        ]
        # The shared rows last, each locked until the commit: the CAs' status revision, then
        # the audit head.
        status.note_issued_on_hold(personalised.issuers)
        audit.append_many(changes)
    outcome.done = [card.pk for card in ready]
    return outcome


def send_batch(*, actor: Any, card_ids: Sequence[int], now: datetime) -> BatchOutcome:
    """`send` for each card, in one transaction."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN)
    calendar = current_calendar()
    outcome = BatchOutcome()
    with transaction.atomic():
        sent: list[Card] = []
        letters: list[tuple[Any, ...]] = []
        changes: list[audit.Change] = []
        for card in _locked_cards(card_ids, outcome):
            before = snapshot(card)
            try:
                kinds = mark_sent(card, calendar, now)
            except DomainError as refusal:
                outcome.refused[card.pk] = refusal
                continue
            sent.append(card)
            letters += [letter_values(card, kind, now) for kind in kinds]
            changes.append(sent_change(actor, card, now, before, kinds))
        if not sent:
            return outcome
        _save(sent, SENT_FIELDS, [])
        insert_rows(Letter, LETTER_COLUMNS, letters)
        audit.append_many(changes)
    outcome.done = [card.pk for card in sent]
    return outcome
