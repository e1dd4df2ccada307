"""The transition's weeks, shaped from the store's rows: which week a day falls in, where the
transition starts in a calendar, and the running count of cards still to activate."""

from __future__ import annotations

from datetime import date

from ekort.domain.policy_calendar import default_calendar
from ekort.domain.transition_weeks import (
    WeekFigures,
    monday_of,
    transition_start,
    weekly_progress,
)


def test_a_week_runs_from_monday_to_sunday():
    assert monday_of(date(2024, 1, 22)) == date(2024, 1, 22)  # a Monday
    assert monday_of(date(2024, 1, 28)) == date(2024, 1, 22)  # its Sunday
    assert monday_of(date(2024, 1, 29)) == date(2024, 1, 29)
    week = WeekFigures(date(2024, 12, 30), 0, 0, 0)
    assert (week.year, week.week, week.sunday) == (2025, 1, date(2025, 1, 5))  # ISO weeks


def test_the_transition_starts_with_the_new_generation():
    # Gävleborg: the portrait cards from 2024-01-25 (R5); its week also holds 2024-01-23, the
    # first day after the R3 pick-up deadline, when the sweep blocks the cards not collected.
    assert transition_start(default_calendar()) == date(2024, 1, 25)
    assert monday_of(date(2024, 1, 25)) == date(2024, 1, 22)


def test_weeks_from_the_start_to_today_with_the_count_still_to_activate():
    rows = [
        (date(2024, 1, 8), "sent", 5),  # before the first week: the opening count
        (date(2024, 1, 8), "left", 1),
        (date(2024, 1, 8), "activated", 1),  # before the first week: not shown
        (date(2024, 1, 22), "deadline_block", 2),
        (date(2024, 1, 22), "left", 2),
        (date(2024, 1, 29), "sent", 3),
        (date(2024, 2, 12), "activated", 2),
        (date(2024, 2, 12), "left", 2),
        (date(2024, 2, 19), "sent", 9),  # after the week of today: left out
    ]
    weeks = weekly_progress(reversed(rows), date(2024, 1, 25), date(2024, 2, 18))
    assert [(w.monday, w.activated, w.blocked_by_deadline, w.still_to_activate) for w in weeks] == [
        (date(2024, 1, 22), 0, 2, 2),
        (date(2024, 1, 29), 0, 0, 5),
        (date(2024, 2, 5), 0, 0, 5),  # a week with nothing still has its line
        (date(2024, 2, 12), 2, 0, 3),
    ]


def test_no_weeks_before_the_transition_starts():
    assert weekly_progress([], date(2024, 1, 25), date(2024, 1, 21)) == []
    assert len(weekly_progress([], date(2024, 1, 25), date(2024, 1, 22))) == 1
