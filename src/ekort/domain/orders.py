"""Who may order a card for whom (E2), and how many a person may hold (E8)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from . import card_words as words
from .errors import Decision, decides
from .lifecycle import OCCUPYING_STATES
from .rulebook import rule
from .vocabulary import CardType


@decides("E2")
def decide_orderer(actor_person: int | None, manager: int | None, holder_name: str) -> Decision:
    """Only the person's manager orders, cancels or replaces their cards (E2)."""
    e2 = rule("E2")
    if manager is None or actor_person is None or manager != actor_person:
        return Decision.refuse(
            "E2",
            f"{e2.sv} Du är inte registrerad som chef för {holder_name}.",
            f"{e2.en} You are not recorded as {holder_name}'s manager.",
        )
    return Decision.allow("E2", e2.sv, e2.en)


@decides("E8")
def decide_free_slot(card_type: CardType, taken: bool) -> Decision:
    """A person holds at most one card of each type ordered or in use (E8); `taken` says
    whether another one is (`slot_taken`): a renewal under way beside the old card it replaces
    does not count twice."""
    e8 = rule("E8")
    if taken:
        return Decision.refuse(
            "E8",
            f"{e8.sv} Personen har redan ett {words.CARD_TYPES[card_type][0]} som är beställt "
            "eller giltigt; beställ ett ersättningskort i stället.",
            f"{e8.en} The person already has a {words.CARD_TYPES[card_type][1]} ordered or in "
            "use; order a replacement instead.",
        )
    return Decision.allow("E8", e8.sv, e8.en)


class SlotCard(NamedTuple):
    """A card of the person and type in question, as E8 sees it."""

    pk: int
    state: str
    replaces: int | None  # the card its order replaces


def slot_taken(cards: Iterable[SlotCard], replacing: int | None = None) -> bool:
    """Whether another card holds the person's slot for the type (E8), `replacing` aside: a
    card ordered or in use, except one that a successor ordered or in use is replacing, which
    stays until that successor is activated (E12)."""
    occupying = [card for card in cards if card.state in OCCUPYING_STATES]
    on_their_way_out = {card.replaces for card in occupying if card.replaces is not None}
    return any(card.pk != replacing and card.pk not in on_their_way_out for card in occupying)
