"""The overview's weeks, read from the database in one statement (services.transition): weeks
counted in Swedish time, a deadline's block told from a person's, and the cards still to
activate going down as they are activated. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ekort.domain.transition_weeks import WeekFigures
from ekort.services import cards, deadlines, transition
from ekort.store.models import Block
from tests import instants as t
from tests.factories import World, person
from tests.integration import journeys

pytestmark = pytest.mark.django_db


def _week(weeks: list[WeekFigures], monday: date) -> tuple[int, int, int]:
    [found] = [w for w in weeks if w.monday == monday]
    return found.activated, found.blocked_by_deadline, found.still_to_activate


def _staff(world: World, n: int):
    return [person(given=f"Person{i}", family="Test", manager=world.manager) for i in range(n)]


@pytest.mark.parametrize(
    ("sunday", "monday"),
    [
        (t.LAST_SECOND_OF_WEEK_5, t.FIRST_SECOND_OF_WEEK_6),  # winter, +01:00
        (t.SUNDAY_END_OF_WEEK_22, t.MONDAY_OF_WEEK_23),  # summer, +02:00
    ],
)
def test_a_week_ends_on_sunday_at_midnight_swedish_time(world: World, sunday, monday):
    a, b = _staff(world, 2)
    sent_at = sunday - timedelta(days=3)  # both sent on the Thursday before
    journeys.activated(world, "photo", sent_at, sunday, person=a)
    journeys.activated(world, "photo", sent_at, monday, person=b)
    week_before = monday.date() - timedelta(days=7)
    events = transition.weekly_events(monday)
    activated = sorted((week, n) for week, event, n in events if event == "activated")
    assert activated == [(week_before, 1), (monday.date(), 1)]
    weeks = transition.progress(monday)
    assert weeks[0].monday == date(2024, 1, 22) and weeks[-1].monday == monday.date()
    assert _week(weeks, week_before) == (1, 0, 1)
    assert _week(weeks, monday.date()) == (1, 0, 0)


def test_a_block_by_the_deadline_sweep_counts_and_a_holders_block_does_not(world: World):
    a, b, c = _staff(world, 3)
    # Legacy path: code envelopes sent 2024-01-10, to be collected by 2024-01-22 (R3).
    swept = journeys.sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY, person=a)
    # New path: sent home 2024-01-31, to be activated by 2024-04-30 (R8).
    not_activated = journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=b)
    by_holder = journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=c)
    # A person asks, naming the deadline's reason and even the job: still a person's block.
    cards.block(
        actor=world.support,
        reason="not_activated",
        requested_by="job:not_activated",
        now=t.sthlm(2024, 2, 7, 10),
        card_ids=[by_holder.pk],
    ).one()
    deadlines.run_all(t.STOP_START)  # R3: the card not collected, in the week of 2024-01-22
    deadlines.run_all(t.AFTER_ACTIVATION_WINDOW)  # R8: 2024-05-01, week 18
    assert Block.objects.get(card=swept).requested_by == "job:not_collected"
    assert Block.objects.get(card=not_activated).requested_by == "job:not_activated"

    weeks = transition.progress(t.sthlm(2024, 5, 8, 12))
    assert [(w.monday, w.blocked_by_deadline) for w in weeks if w.blocked_by_deadline] == [
        (date(2024, 1, 22), 1),
        (date(2024, 4, 29), 1),
    ]
    # The legacy card waited from before the first week and stopped waiting when swept.
    assert _week(weeks, date(2024, 1, 22)) == (0, 1, 0)
    assert _week(weeks, date(2024, 1, 29)) == (0, 0, 2)
    assert _week(weeks, date(2024, 2, 5)) == (0, 0, 1)  # the holder's block
    assert _week(weeks, date(2024, 4, 29)) == (0, 1, 0)


def test_the_cards_still_to_activate_go_down_as_they_are_activated(world: World):
    a, b, c, d = _staff(world, 4)
    first = journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=a)
    journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=b)
    journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 6, 10), person=c)
    journeys.activated(world, "reserve", t.NEW_PROCESS, t.sthlm(2024, 2, 14, 10), person=d)
    weeks = transition.progress(t.sthlm(2024, 2, 20, 9))
    assert [(w.monday, w.activated, w.still_to_activate) for w in weeks] == [
        (date(2024, 1, 22), 0, 0),
        (date(2024, 1, 29), 0, 4),  # four sent on 2024-01-31
        (date(2024, 2, 5), 1, 3),
        (date(2024, 2, 12), 1, 2),
        (date(2024, 2, 19), 0, 2),
    ]
    cards.activate(
        actor=world.id_admin,
        now=t.sthlm(2024, 2, 20, 10),
        activations={first.pk: cards.Activation(journeys.PASSPORT, journeys.PIN)},
    ).one()
    # Read at an instant: an activation after it is not counted yet.
    assert transition.progress(t.sthlm(2024, 2, 20, 9))[-1].still_to_activate == 2
    assert transition.progress(t.sthlm(2024, 2, 20, 11))[-1].still_to_activate == 1


def test_one_statement_whatever_the_number_of_cards(world: World, django_assert_num_queries):
    for holder in _staff(world, 3):
        journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 6, 10), person=holder)
    with django_assert_num_queries(1):
        weeks = transition.progress(t.sthlm(2024, 3, 1, 12))
    assert sum(w.activated for w in weeks) == 3


def test_no_weeks_before_the_transition_and_none_in_an_empty_register(db):
    assert transition.progress(t.RESERVE_ONLY) == []
    weeks = transition.progress(t.NEW_PROCESS)
    assert [(w.monday, w.activated, w.blocked_by_deadline, w.still_to_activate) for w in weeks] == [
        (date(2024, 1, 22), 0, 0, 0),
        (date(2024, 1, 29), 0, 0, 0),
    ]
