"""Who may order a card for whom (E2), and how many a person may hold (E8)."""

from __future__ import annotations

from .errors import Decision, decides
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
    whether another one is."""
    e8 = rule("E8")
    if taken:
        return Decision.refuse(
            "E8",
            f"{e8.sv} Personen har redan ett {card_type.value}kort som är beställt eller giltigt; "
            "beställ ett ersättningskort i stället.",
            f"{e8.en} The person already has a {card_type.value} card ordered or in use; "
            "order a replacement instead.",
        )
    return Decision.allow("E8", e8.sv, e8.en)
