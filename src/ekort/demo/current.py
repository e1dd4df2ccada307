"""The current cards: each placed a few working days before the build instant (ordered,
photographed, produced, sent, activated or cancelled), so that the portal shows work under way
whenever the demo is built, and kept only if the policy calendar allows every step then.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.timekeeping import add_years, local_date
from ekort.domain.vocabulary import CardType, DeliveryPath, Generation, ReplacementReason

from .cards import CardRef, Plan
from .timeline import HISTORY_START

# The last day a legacy card (code envelope, collected at a hand-out point) is ordered in the
# story of a card that runs out soon: its collection falls before the pick-up deadline (R3).
LAST_LEGACY_ORDER = date(2023, 11, 30)


def _current(
    plan: Plan,
    key: str,
    steps: list[tuple[str, int, str]],
    card_type: CardType = CardType.PHOTO,
    note: str = "Nyanställd.",
) -> None:
    """Steps (action, working days before the build instant, clock time), kept only if
    the policy calendar allows every step when it falls."""
    timed = [(action, plan.workdays_before_build(days, hhmm)) for action, days, hhmm in steps]
    needs = {
        "order": PolicyAction.ORDER,
        "photograph": PolicyAction.PHOTOGRAPH,
        "produce": PolicyAction.ISSUE,
        "send": PolicyAction.ISSUE,
        "activate": PolicyAction.ACTIVATE,
    }
    for action, at in timed:
        if at < HISTORY_START or at >= plan.build_at:
            return
        if action in needs and not plan.calendar.decide(needs[action], card_type, at).allowed:
            return
        if action == "send" and plan.calendar.delivery_path(at) is not DeliveryPath.HOME:
            return
        if action == "unlock" and plan.calendar.generation_at(at) is Generation.LEGACY:
            return
    card: CardRef | None = None
    for action, at in timed:
        if action == "order":
            card = plan.order(key, at, card_type, note)
            continue
        assert card is not None
        if action == "cancel":
            plan.cancel(card, at, "Anställningen påbörjas inte.")
        else:
            step: Any = getattr(plan, action)
            step(card, at)


def current_ordered(plan: Plan, key: str) -> None:
    _current(plan, key, [("order", 2, "13:40")])


def current_photographed(plan: Plan, key: str) -> None:
    _current(plan, key, [("order", 9, "11:25"), ("photograph", 1, "09:50")])


def current_produced(plan: Plan, key: str) -> None:
    _current(
        plan, key, [("order", 14, "08:35"), ("photograph", 8, "10:05"), ("produce", 1, "14:05")]
    )


def current_sent(plan: Plan, key: str) -> None:
    _current(
        plan,
        key,
        [
            ("order", 20, "09:10"),
            ("photograph", 15, "09:20"),
            ("produce", 12, "13:15"),
            ("send", 12, "13:55"),
        ],
    )


def current_reserve_sent(plan: Plan, key: str) -> None:
    _current(
        plan,
        key,
        [("order", 6, "15:05"), ("produce", 5, "10:40"), ("send", 5, "11:20")],
        CardType.RESERVE,
        "Vikariat; reservkort under anställningen.",
    )


def current_activated(plan: Plan, key: str) -> None:
    _current(
        plan,
        key,
        [
            ("order", 30, "11:25"),
            ("photograph", 25, "09:35"),
            ("produce", 22, "08:20"),
            ("send", 22, "09:00"),
            ("activate", 10, "10:20"),
            ("unlock", 2, "09:05"),
        ],
    )


def _legacy_card_ending(plan: Plan, key: str, days_after_build: int) -> CardRef | None:
    """A legacy photo card whose last valid day falls `days_after_build` days after the build
    instant, less up to a fortnight; None when such a card would have been ordered before the
    history or outside the legacy periods."""
    ends = local_date(plan.build_at) + timedelta(days=days_after_build)
    produced = add_years(ends, -plan.calendar.validity_years[CardType.PHOTO])
    first, last = produced - timedelta(days=14), produced - timedelta(days=12)
    if first < HISTORY_START.date() or last > LAST_LEGACY_ORDER:
        return None
    card, _, _ = plan.legacy_card(key, first, last, "Kortet ska gälla i fem år.")
    return card


def renewal_due(plan: Plan, key: str) -> None:
    """A card that runs out within 90 days of the build, no renewal ordered: on the worklists
    and on the holder's Mina sidor (E12)."""
    _legacy_card_ending(plan, key, 50)


def renewal_under_way(plan: Plan, key: str) -> None:
    """A card that runs out within 90 days, renewed a few days before the build: the old card
    works until the new one is activated (E12)."""
    card = _legacy_card_ending(plan, key, 75)
    at = plan.workdays_before_build(3, "10:15")
    if card is None or not plan.calendar.decide(PolicyAction.ORDER, CardType.PHOTO, at).allowed:
        return
    plan.replace(card, at, ReplacementReason.EXPIRING, "Förnyelse: kortet går snart ut.")


def current_cancelled(plan: Plan, key: str) -> None:
    _current(
        plan, key, [("order", 12, "13:40"), ("photograph", 10, "10:35"), ("cancel", 3, "08:35")]
    )


STORIES: dict[str, Callable[[Plan, str], None]] = {
    "current_ordered": current_ordered,
    "current_photographed": current_photographed,
    "current_produced": current_produced,
    "current_sent": current_sent,
    "current_reserve_sent": current_reserve_sent,
    "current_activated": current_activated,
    "current_cancelled": current_cancelled,
    "renewal_due": renewal_due,
    "renewal_under_way": renewal_under_way,
}
