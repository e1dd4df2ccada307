"""The transition's progress week by week: cards activated, cards blocked because a deadline
passed (R3, R8), and cards still to activate at the end of each week.

Weeks are ISO weeks, Monday to Sunday, counted in Swedish time (Europe/Stockholm): a card
activated on Sunday 23:59 counts in that week, one activated on Monday 00:00 in the next. The
store groups its dated events by week (`services.transition.weekly_events`); `weekly_progress`
shapes those rows into one line per week, from the week the transition starts to the week of
today. Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .policy_calendar import PolicyCalendar


class WeekEvent(StrEnum):
    """What the store counts per week. A card is waiting to be activated from the day it is
    sent until it is handed out or activated (LEFT, by activation), or closed without being
    activated (LEFT, by a block, an expiry)."""

    SENT = "sent"  # sent to the holder: from now on the card waits to be activated
    LEFT = "left"  # a sent card stopped waiting: activated, or closed before it was
    ACTIVATED = "activated"  # handed out (R3) or activated at a card office (R7)
    DEADLINE_BLOCK = "deadline_block"  # blocked by the R3 or R8 deadline sweep


@dataclass(frozen=True)
class WeekFigures:
    monday: date
    activated: int
    blocked_by_deadline: int
    still_to_activate: int  # at the end of the week (for the current week: so far)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def year(self) -> int:
        """The ISO year the week belongs to (the week of 2024-12-30 is week 1 of 2025)."""
        return self.monday.isocalendar().year

    @property
    def week(self) -> int:
        return self.monday.isocalendar().week


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def transition_start(calendar: PolicyCalendar) -> date | None:
    """The first day cards of a new generation are issued (R5): the first period whose
    generation differs from the period before. The week holding that day also holds the last
    days of the old process where they end together (Gävleborg: the R3 pick-up deadline passed
    on 2024-01-22, the new generation from 2024-01-25). None for a calendar with one generation."""
    for before, period in zip(calendar.periods, calendar.periods[1:], strict=False):
        if period.generation != before.generation:
            return period.first_day
    return None


def weekly_progress(
    rows: Iterable[tuple[date, str, int]], first_day: date, today: date
) -> list[WeekFigures]:
    """One line per week from the week of `first_day` to the week of `today`, both included,
    oldest first; empty when `first_day` is after `today`.

    `rows` are (the Monday of a week, a `WeekEvent`, how many), at most one per week and
    event, any order. Cards sent and not yet activated before the first week are the opening
    count of those still to activate; rows after the week of `today` are left out."""
    first, last = monday_of(first_day), monday_of(today)
    counts: dict[tuple[date, WeekEvent], int] = {}
    waiting_before = 0
    for monday, event, n in rows:
        kind = WeekEvent(event)
        if monday < first:
            waiting_before += _waiting_change(kind, n)
        elif monday <= last:
            counts[(monday, kind)] = counts.get((monday, kind), 0) + n
    weeks = []
    waiting = waiting_before
    monday = first
    while monday <= last:
        waiting += counts.get((monday, WeekEvent.SENT), 0) - counts.get((monday, WeekEvent.LEFT), 0)
        weeks.append(
            WeekFigures(
                monday=monday,
                activated=counts.get((monday, WeekEvent.ACTIVATED), 0),
                blocked_by_deadline=counts.get((monday, WeekEvent.DEADLINE_BLOCK), 0),
                still_to_activate=waiting,
            )
        )
        monday += timedelta(days=7)
    return weeks


def _waiting_change(event: WeekEvent, n: int) -> int:
    return {WeekEvent.SENT: n, WeekEvent.LEFT: -n}.get(event, 0)
