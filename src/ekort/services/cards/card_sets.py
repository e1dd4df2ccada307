"""What every card action shares. An action takes a set of cards (a single card is a set of
one) and has the same shape whatever calls it, the portal, the API, `ekort bulk` or a job:

1. refuse unusable input and a missing role for the whole call, before anything;
2. in one transaction, lock the cards in id order (`locked_cards`);
3. ask the rules about each card (`Outcome.sift`): a refused card is left untouched and its
   refusal, which names the rule, is kept in the outcome; the others go on;
4. move the cards along the lifecycle table, write their rows a set at a time;
5. append one audit entry per card, last (`audit.append`).

A refusal never stops the others. Anything else that goes wrong (a chip that fails, a lost
connection) undoes the whole set: every card of it is then untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from ekort.domain.errors import DomainError, InvalidInput, NotFound
from ekort.domain.lifecycle import CardAction, CardState, next_state
from ekort.domain.vocabulary import CardType
from ekort.store.locks import lock_cards
from ekort.store.models import Card
from ekort.store.sets import save_fields

from .. import audit
from ..roles import actor_label

MAX_SET = 5000  # cards per call: one transaction's worth; `ekort bulk` and the jobs chunk


@dataclass
class Outcome:
    """What an action did: the cards it left changed (for an order or a replacement, the new
    cards), in id order; the refusal of each card it left untouched, by the card's id (for an
    order, by the order's position in the list); and what it made for a card (a letter)."""

    done: list[int] = field(default_factory=list)
    refused: dict[int, DomainError] = field(default_factory=dict)
    made: dict[int, Any] = field(default_factory=dict)

    def sift(self, cards: Iterable[Card], check: Callable[[Card], object]) -> list[Card]:
        """The cards `check` lets through; a card it refuses (a `DomainError`) is kept out and
        its refusal recorded. `check` decides before it changes anything of its card."""
        passed = []
        for card in cards:
            try:
                check(card)
            except DomainError as refusal:
                self.refused[card.pk] = refusal
                continue
            passed.append(card)
        return passed

    def one(self) -> Card:
        """For a set of one: the card as it now is, or its refusal raised."""
        for refusal in self.refused.values():
            raise refusal
        [card_id] = self.done
        return Card.objects.select_related("person", "order").get(pk=card_id)

    def one_made(self) -> Any:
        """For a set of one: what the action made for the card (a letter), or its refusal
        raised."""
        for refusal in self.refused.values():
            raise refusal
        [made] = self.made.values()
        return made


def distinct_ids(card_ids: Collection[int]) -> list[int]:
    ids = sorted({int(pk) for pk in card_ids})
    if len(ids) > MAX_SET:
        raise InvalidInput(f"At most {MAX_SET} cards at a time, not {len(ids)}.")
    return ids


def locked_cards(
    card_ids: Collection[int],
    outcome: Outcome,
    lock: Callable[[Collection[int]], list[Card]] = lock_cards,
) -> list[Card]:
    """The cards, locked until the transaction ends by `lock` (`store.locks`); an unknown id
    is refused as NotFound."""
    ids = distinct_ids(card_ids)
    cards = lock(ids)
    found = {card.pk for card in cards}
    for pk in ids:
        if pk not in found:
            outcome.refused[pk] = NotFound(f"There is no card with id {pk}.")
    return cards


def snapshot(card: Card, *fields: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("state", *fields):
        value = getattr(card, name)
        values[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return values


def move(card: Card, action: CardAction) -> CardState:
    """Apply the lifecycle table to the card (E1 refuses an illegal transition)."""
    target = next_state(CardState(card.state), action, CardType(card.card_type))
    card.state = target.value
    return target


def save(cards: Sequence[Card], fields: Sequence[str], own: Sequence[str] = ()) -> None:
    """Store `fields` of the cards, which are alike for most cards of a set (a state, an
    instant), and `own`, each card's own (a card number, a sealed PUK)."""
    save_fields(Card, cards, fields, own)


class CardRef(NamedTuple):
    """What a change needs to know of a locked card: a sweep reads a million of these, where
    model instances would cost more than the change itself."""

    pk: int
    state: str
    number: str | None


def card_change(
    actor: Any,
    action: str,
    card: Card | CardRef,
    now: datetime,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str = "",
) -> audit.Change:
    """The audit entry of a change to `card`."""
    return audit.Change(
        actor=actor_label(actor),
        action=action,
        object_type="card",
        object_id=str(card.pk),
        at=now,
        reason=reason,
        before=before,
        after={**after, "card_number": card.number},
    )
