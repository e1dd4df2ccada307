"""The sweep and search populations' COPY lines written directly are the lines the generic
row formatter gives (bench.population)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bench.population import (
    Cards,
    _cards,
    _persons,
    card_lines,
    copy_lines,
    person_lines,
)

SPEC = Cards(
    count=25,
    state="sent_inactive",
    ordered_by_id=7,
    prefix="9752",
    at=datetime(2024, 1, 31, 9, 0, tzinfo=UTC),
    valid_until=date(2029, 1, 31),
    activation_deadline=date(2024, 4, 30),
)


def test_person_lines_are_the_generic_lines():
    assert list(person_lines(101, 25, 3)) == list(copy_lines(_persons(101, 25, 3)))


def test_card_lines_are_the_generic_lines():
    assert list(card_lines(SPEC, 11, 21, 31)) == list(copy_lines(_cards(SPEC, 11, 21, 31)))


def test_a_card_without_an_activation_deadline_has_null_there():
    spec = Cards(**{**SPEC.__dict__, "activation_deadline": None, "count": 1})
    [line] = card_lines(spec, 1, 1, 1)
    assert line.endswith("\t\\N\n")
