"""The transition at a glance: cards by state, type and generation, deadlines coming up, cards
due for renewal, and letters waiting to be printed.

Every figure is an aggregate query (GROUP BY, or COUNT with a filter) so that the page stays
quick with a million cards: no card is loaded into Python. Each reads the card table once; no
index on the card's state serves them, on purpose (see services/deadlines.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q

from ekort.domain.lifecycle import LIVE_STATES, CardState
from ekort.domain.timekeeping import local_date, require_aware
from ekort.store.models import Card, Letter

from .renewals import DueCounts, due_counts

SOON_DAYS = 7
LATER_DAYS = 30


@dataclass(frozen=True)
class DeadlineCounts:
    """Cards still waiting, by when their last day falls (Stockholm dates, inclusive)."""

    rule: str  # R3: pick-up deadline; R8: activation deadline
    overdue: int  # the last day has passed, the card is not yet swept (blocked) by the job
    within_soon: int  # last day today or in the next SOON_DAYS days
    within_later: int  # last day today or in the next LATER_DAYS days (includes within_soon)


@dataclass(frozen=True)
class Overview:
    today: date
    total_cards: int
    by_state: dict[str, int]
    by_type: dict[str, int]
    # Cards that exist physically (LIVE_STATES), by generation: the transition's progress.
    live_by_generation: dict[str, int]
    active_by_generation: dict[str, int]
    pickup: DeadlineCounts
    activation: DeadlineCounts
    print_queue: dict[str, int]  # letters not printed yet, by kind
    # Cards due for renewal with none under way, ending within 90 and 30 days (E12).
    renewals: DueCounts

    @property
    def letters_waiting(self) -> int:
        return sum(self.print_queue.values())


def _grouped(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, int]:
    return {str(row[key]): int(row["n"]) for row in rows}


def _deadlines(state: CardState, field: str, rule: str, today: date) -> DeadlineCounts:
    soon = today + timedelta(days=SOON_DAYS)
    later = today + timedelta(days=LATER_DAYS)
    counts = Card.objects.filter(state=state, **{f"{field}__isnull": False}).aggregate(
        overdue=Count("pk", filter=Q(**{f"{field}__lt": today})),
        soon=Count("pk", filter=Q(**{f"{field}__range": (today, soon)})),
        later=Count("pk", filter=Q(**{f"{field}__range": (today, later)})),
    )
    return DeadlineCounts(rule, counts["overdue"], counts["soon"], counts["later"])


def overview(now: datetime) -> Overview:
    require_aware(now)
    today = local_date(now)
    cards = Card.objects.order_by()
    by_state = _grouped(cards.values("state").annotate(n=Count("pk")), "state")
    by_type = _grouped(cards.values("card_type").annotate(n=Count("pk")), "card_type")
    generation_rows = (
        cards.filter(state__in=LIVE_STATES).values("generation", "state").annotate(n=Count("pk"))
    )
    live: dict[str, int] = {}
    active: dict[str, int] = {}
    for row in generation_rows:  # at most (generations × live states) rows
        generation = str(row["generation"])
        live[generation] = live.get(generation, 0) + int(row["n"])
        if row["state"] == CardState.ACTIVE:
            active[generation] = active.get(generation, 0) + int(row["n"])
    queue = _grouped(
        Letter.objects.order_by()
        .filter(printed_at__isnull=True, withdrawn_at__isnull=True)
        .values("kind")
        .annotate(n=Count("pk")),
        "kind",
    )
    return Overview(
        today=today,
        total_cards=sum(by_state.values()),
        by_state=by_state,
        by_type=by_type,
        live_by_generation=live,
        active_by_generation=active,
        pickup=_deadlines(CardState.AWAITING_PICKUP, "pickup_deadline", "R3", today),
        activation=_deadlines(CardState.SENT_INACTIVE, "activation_deadline", "R8", today),
        print_queue=queue,
        renewals=due_counts(now),
    )
