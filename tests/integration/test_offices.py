"""Card offices by town, open or closed at an instant judged in Stockholm time (R18)."""

from __future__ import annotations

from datetime import date, time

import pytest

from ekort.domain.opening_hours import DayException, Interval, OpeningHours
from ekort.services.offices import create_office, offices_by_town, opening_hours_of
from ekort.store.models import CardOffice, OpeningException, OpeningInterval
from tests.instants import sthlm

pytestmark = pytest.mark.django_db

TUESDAY_MORNING = sthlm(2024, 2, 6, 9, 30)
TUESDAY_LUNCH = sthlm(2024, 2, 6, 12, 0)
CHRISTMAS_EVE_MORNING = sthlm(2024, 12, 24, 9, 30)  # a Tuesday, closed by exception


@pytest.fixture
def gavle(db):
    office = CardOffice.objects.create(
        name="Kortkontoret", town="Gävle", street_address="Lasarettsvägen 1", postal_code="80187"
    )
    for weekday in range(5):
        OpeningInterval.objects.create(
            office=office, weekday=weekday, opens=time(8), closes=time(11, 30)
        )
        OpeningInterval.objects.create(
            office=office, weekday=weekday, opens=time(12, 30), closes=time(16)
        )
    OpeningException.objects.create(office=office, day=date(2024, 12, 24), note="Julafton")
    return office


@pytest.mark.parametrize(
    ("now", "open_now"),
    [(TUESDAY_MORNING, True), (TUESDAY_LUNCH, False), (CHRISTMAS_EVE_MORNING, False)],
)
def test_open_now(gavle, now, open_now):
    (status,) = offices_by_town(now)
    assert status.open_now is open_now


def test_lunch_break_reopens_at_half_past_twelve(gavle):
    (status,) = offices_by_town(TUESDAY_LUNCH)
    assert status.next_opening == sthlm(2024, 2, 6, 12, 30)


def test_home_page_lists_offices(gavle, client):
    page = client.get("/").content.decode()
    assert "Gävle" in page
    assert "Kortkontoret" in page


def test_an_office_created_from_opening_hours_reads_back_the_same_hours(db):
    morning, afternoon = Interval(time(8), time(11, 30)), Interval(time(12, 30), time(16))
    hours = OpeningHours(
        {weekday: (morning, afternoon) for weekday in range(4)} | {4: (morning,)},
        (
            DayException(date(2024, 12, 24), (), "Julafton: stängt"),
            DayException(date(2024, 4, 30), (Interval(time(8), time(11, 30)),), "Valborg"),
        ),
    )
    office = create_office(
        name="Kortkontoret",
        town="Sandviken",
        street_address="Lasarettsgatan 3",
        postal_code="81189",
        phone="026-27 60 10",
        hours=hours,
    )
    assert opening_hours_of(CardOffice.objects.get(pk=office.pk)) == hours
    assert [s.open_now for s in offices_by_town(CHRISTMAS_EVE_MORNING)] == [False]
