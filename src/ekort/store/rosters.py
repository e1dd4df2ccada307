"""Read functions for lists of persons (Mina medarbetare, the staff searches): where each
person stands with their cards, their next deadline, and the counts a list's summary shows.

Everything is worked out in the database, so that a list of 500 or 50,000 persons is
filtered, counted and cut into pages without loading more than the page into Python. Which
persons a caller may see is decided before (`services.visibility`): these functions take the
persons already chosen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import IntEnum
from typing import Any

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When

from ekort.domain.lifecycle import LIVE_STATES, OCCUPYING_STATES, CardState

from .models import Card, Person

MAX_NAME_WORDS = 4


class Standing(IntEnum):
    """Where a person stands with their cards, the best of them: a card in use, one on its way
    to the holder (made, sent, waiting to be collected), one ordered (not made yet), or none
    that works or is coming (every card blocked, expired or cancelled, or no card at all)."""

    ACTIVE = 0
    ON_THE_WAY = 1
    ORDERED = 2
    NONE = 3


_ON_THE_WAY = sorted(LIVE_STATES - {CardState.ACTIVE})
_ORDERED = sorted(OCCUPYING_STATES - LIVE_STATES)


def _has_card(states: Iterable[str]) -> Exists:
    return Exists(Card.objects.filter(person=OuterRef("pk"), state__in=list(states)))


def _deadline_of_card() -> Case:
    """The day that matters for a card now: collect it by (R3), activate it by (R8), or the
    last day it is valid."""
    return Case(
        When(state=CardState.AWAITING_PICKUP, then=F("pickup_deadline")),
        When(state=CardState.SENT_INACTIVE, then=F("activation_deadline")),
        When(state__in=sorted(LIVE_STATES), then=F("valid_until")),
        default=Value(None),
    )


def name_condition(text: str, prefix: str = "") -> Q:
    """Persons whose given or family name starts with every word (at most four)."""
    condition = Q()
    for word in text.split()[:MAX_NAME_WORDS]:
        condition &= Q(**{f"{prefix}given_name__istartswith": word}) | Q(
            **{f"{prefix}family_name__istartswith": word}
        )
    return condition


def with_standing(persons: QuerySet[Person]) -> QuerySet[Person]:
    """The persons, each with `standing` (a `Standing`) and `next_deadline` (the soonest day
    that matters among their cards that work or are coming, or None), by family name."""
    deadlines = (
        Card.objects.filter(person=OuterRef("pk"), state__in=sorted(LIVE_STATES))
        .annotate(day=_deadline_of_card())
        .filter(day__isnull=False)
        .order_by("day")
        .values("day")[:1]
    )
    return (
        persons.annotate(
            standing=Case(
                When(_has_card([CardState.ACTIVE]), then=Value(int(Standing.ACTIVE))),
                When(_has_card(_ON_THE_WAY), then=Value(int(Standing.ON_THE_WAY))),
                When(_has_card(_ORDERED), then=Value(int(Standing.ORDERED))),
                default=Value(int(Standing.NONE)),
            ),
            next_deadline=Subquery(deadlines),
        )
        .select_related("unit")
        .order_by("family_name", "given_name", "pk")
    )


def narrowed(
    persons: QuerySet[Person],
    *,
    name: str = "",
    standing: Standing | None = None,
    card_type: str = "",
    deadline_by: date | None = None,
) -> QuerySet[Person]:
    """`with_standing` persons narrowed by name, standing, a card of the type that is ordered
    or works, and a next deadline on or before a day (a passed one included)."""
    if name.strip():
        persons = persons.filter(name_condition(name))
    if standing is not None:
        persons = persons.filter(Q(standing=int(standing)))
    if card_type:
        persons = persons.filter(
            Exists(
                Card.objects.filter(
                    person=OuterRef("pk"), card_type=card_type, state__in=sorted(OCCUPYING_STATES)
                )
            )
        )
    if deadline_by is not None:
        persons = persons.filter(Q(next_deadline__lte=deadline_by))
    return persons


def standing_counts(persons: QuerySet[Person]) -> dict[Standing, int]:
    """How many of the `with_standing` persons stand where: one grouped query."""
    counts = {standing: 0 for standing in Standing}
    annotated: Any = persons.order_by()  # `standing` is an annotation the stubs cannot see
    rows = annotated.values("standing").annotate(n=Count("pk")).values_list("standing", "n")
    for standing, n in rows:
        counts[Standing(standing)] = n
    return counts


def current_cards(person_ids: Iterable[int]) -> dict[int, Card]:
    """Each person's card that says most about them now (in use, then on its way, then
    ordered; the newest first), for a page of a list: one query."""
    best: dict[int, tuple[tuple[int, int], Card]] = {}
    order = {CardState.ACTIVE: 0, **dict.fromkeys(_ON_THE_WAY, 1), **dict.fromkeys(_ORDERED, 2)}
    cards = Card.objects.filter(
        person_id__in=list(person_ids), state__in=sorted(OCCUPYING_STATES)
    ).only("pk", "person_id", "card_type", "state", "pickup_deadline", "activation_deadline")
    for card in cards:
        key = (order[CardState(card.state)], -card.pk)
        if card.person_id not in best or key < best[card.person_id][0]:
            best[card.person_id] = (key, card)
    return {person_id: card for person_id, (_, card) in best.items()}
