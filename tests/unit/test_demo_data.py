"""The demo's fixed data: the card offices' closed days come from the `holidays` library and are
the days the demo closed before it used one; every person's story exists."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ekort.demo import STORIES
from ekort.demo.closed_days import closed_days, half_days
from ekort.demo.people import PERSONS

CLOSED_2024 = {
    date(2024, 1, 1): "Nyårsdagen",
    date(2024, 1, 6): "Trettondedag jul",
    date(2024, 3, 29): "Långfredagen",
    date(2024, 4, 1): "Annandag påsk",
    date(2024, 5, 1): "Första maj",
    date(2024, 5, 9): "Kristi himmelsfärdsdag",
    date(2024, 6, 6): "Nationaldagen",
    date(2024, 6, 21): "Midsommarafton",  # a de facto holiday, not a public one
    date(2024, 12, 24): "Julafton",  # de facto
    date(2024, 12, 25): "Juldagen",
    date(2024, 12, 26): "Annandag jul",
    date(2024, 12, 31): "Nyårsafton",  # de facto
}


def test_closed_days_2024_are_the_public_and_de_facto_holidays():
    assert closed_days([2024]) == CLOSED_2024


def test_holidays_that_always_fall_at_a_weekend_are_left_out():
    # Påskdagen, pingstdagen (Sundays), midsommardagen, alla helgons dag (Saturdays).
    weekend_only = {date(2024, 3, 31), date(2024, 5, 19), date(2024, 6, 22), date(2024, 11, 2)}
    assert not weekend_only & closed_days([2024]).keys()


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2018, 12, 24), "Julafton"),
        (date(2019, 4, 19), "Långfredagen"),
        (date(2019, 6, 21), "Midsommarafton"),
        (date(2021, 5, 13), "Kristi himmelsfärdsdag"),
        (date(2023, 4, 10), "Annandag påsk"),
        (date(2025, 6, 20), "Midsommarafton"),
        (date(2026, 5, 14), "Kristi himmelsfärdsdag"),
        (date(2027, 1, 1), "Nyårsdagen"),
        (date(2027, 3, 29), "Annandag påsk"),
    ],
)
def test_known_closed_days_in_the_years_the_demo_uses(day, name):
    assert closed_days([day.year])[day] == name


def test_every_year_has_twelve_closed_days_and_three_half_days():
    for year in range(2018, 2031):
        assert len(closed_days([year])) == 12, year
        half = half_days([year])
        assert set(half.values()) == {"Trettondagsafton", "Skärtorsdagen", "Valborgsmässoafton"}
        maundy_thursday = next(day for day, name in half.items() if name == "Skärtorsdagen")
        assert closed_days([year])[maundy_thursday + timedelta(days=1)] == "Långfredagen"


def test_half_days_2024():
    assert half_days([2024]) == {
        date(2024, 1, 5): "Trettondagsafton",
        date(2024, 3, 28): "Skärtorsdagen",
        date(2024, 4, 30): "Valborgsmässoafton",
    }


def test_every_persons_story_exists_and_every_story_is_told():
    told = {spec.story for spec in PERSONS if spec.story}
    assert told == set(STORIES)
