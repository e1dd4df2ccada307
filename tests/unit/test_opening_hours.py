"""Card offices' opening hours (R18), judged by the Stockholm clock across DST and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from ekort.domain.errors import InvalidInput
from ekort.domain.opening_hours import DayException, Interval, OpeningHours
from ekort.domain.timekeeping import STOCKHOLM

CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))


def hours(opens: str, closes: str) -> Interval:
    return Interval(time.fromisoformat(opens), time.fromisoformat(closes))


MORNING = hours("08:00", "12:00")
AFTERNOON = hours("13:00", "16:00")

# A town office: Monday-Thursday with a lunch break, Friday mornings, closed at weekends.
OFFICE = OpeningHours(
    weekly={
        0: (MORNING, AFTERNOON),
        1: (MORNING, AFTERNOON),
        2: (AFTERNOON, MORNING),  # given out of order on purpose: stored sorted
        3: (MORNING, AFTERNOON),
        4: (MORNING,),
    },
    exceptions=(
        DayException(date(2024, 12, 24), (), "Julafton"),
        DayException(date(2024, 12, 25), (), "Juldagen"),
        DayException(date(2024, 12, 26), (), "Annandag jul"),
        DayException(date(2024, 6, 20), (hours("08:00", "11:00"),), "Dag före midsommarafton"),
    ),
)

# An office open every day 09:00-12:00, so that the Sunday DST switches can be tested.
DAILY = OpeningHours(weekly={weekday: (hours("09:00", "12:00"),) for weekday in range(7)})

# Spring switch, Sunday 2024-03-31: at 01:00Z Stockholm goes from +01:00 to +02:00.
SPRING_DAY_BEFORE_OPENING = datetime(2024, 3, 31, 6, 59, 59, tzinfo=UTC)  # 08:59:59 CEST
SPRING_OPENING = datetime(2024, 3, 31, 7, 0, tzinfo=UTC)  # 09:00 CEST
SPRING_0930 = datetime(2024, 3, 31, 7, 30, tzinfo=UTC)  # 09:30 CEST (08:30 if read as CET)
SPRING_LAST_OPEN_SECOND = datetime(2024, 3, 31, 9, 59, 59, tzinfo=UTC)  # 11:59:59 CEST
SPRING_CLOSING = datetime(2024, 3, 31, 10, 0, tzinfo=UTC)  # 12:00 CEST (11:00 if read as CET)
SPRING_EVE = datetime(2024, 3, 30, 20, 0, tzinfo=CET)

# Autumn switch, Sunday 2024-10-27: at 01:00Z Stockholm goes from +02:00 back to +01:00.
AUTUMN_0830 = datetime(2024, 10, 27, 7, 30, tzinfo=UTC)  # 08:30 CET (09:30 if read as CEST)
AUTUMN_OPENING = datetime(2024, 10, 27, 8, 0, tzinfo=UTC)  # 09:00 CET
AUTUMN_LAST_OPEN_SECOND = datetime(2024, 10, 27, 10, 59, 59, tzinfo=UTC)  # 11:59:59 CET
AUTUMN_CLOSING = datetime(2024, 10, 27, 11, 0, tzinfo=UTC)  # 12:00 CET
AUTUMN_EVE = datetime(2024, 10, 26, 20, 0, tzinfo=CEST)

# An ordinary Monday, 2024-12-02 (CET), around the lunch break.
MONDAY_BEFORE_OPENING = datetime(2024, 12, 2, 7, 59, 59, tzinfo=CET)
MONDAY_OPENING = datetime(2024, 12, 2, 8, 0, tzinfo=CET)
MONDAY_1000 = datetime(2024, 12, 2, 10, 0, tzinfo=CET)
MONDAY_LAST_MORNING_SECOND = datetime(2024, 12, 2, 11, 59, 59, tzinfo=CET)
MONDAY_LUNCH = datetime(2024, 12, 2, 12, 0, tzinfo=CET)
MONDAY_AFTER_LUNCH = datetime(2024, 12, 2, 13, 0, tzinfo=CET)
MONDAY_CLOSING = datetime(2024, 12, 2, 16, 0, tzinfo=CET)

# Christmas 2024: closed Tuesday 24th to Thursday 26th, open Friday 27th morning.
CHRISTMAS_EVE_1000 = datetime(2024, 12, 24, 10, 0, tzinfo=CET)
DAY_BEFORE_CHRISTMAS_CLOSING = datetime(2024, 12, 23, 16, 0, tzinfo=CET)
AFTER_CHRISTMAS_OPENING = datetime(2024, 12, 27, 8, 0, tzinfo=CET)
FRIDAY_AFTER_CHRISTMAS_1300 = datetime(2024, 12, 27, 13, 0, tzinfo=CET)
MONDAY_AFTER_CHRISTMAS_OPENING = datetime(2024, 12, 30, 8, 0, tzinfo=CET)

# Midsummer 2024: Thursday 20 June closes at 11:00 instead of 16:00.
MIDSUMMER_THURSDAY_1059 = datetime(2024, 6, 20, 10, 59, tzinfo=CEST)
MIDSUMMER_THURSDAY_1100 = datetime(2024, 6, 20, 11, 0, tzinfo=CEST)


@pytest.mark.parametrize(
    ("hours_", "now", "is_open"),
    [
        (DAILY, SPRING_DAY_BEFORE_OPENING, False),
        (DAILY, SPRING_OPENING, True),
        (DAILY, SPRING_0930, True),
        (DAILY, SPRING_LAST_OPEN_SECOND, True),
        (DAILY, SPRING_CLOSING, False),
        (DAILY, AUTUMN_0830, False),
        (DAILY, AUTUMN_OPENING, True),
        (DAILY, AUTUMN_LAST_OPEN_SECOND, True),
        (DAILY, AUTUMN_CLOSING, False),
        (OFFICE, MONDAY_BEFORE_OPENING, False),
        (OFFICE, MONDAY_OPENING, True),
        (OFFICE, MONDAY_LAST_MORNING_SECOND, True),
        (OFFICE, MONDAY_LUNCH, False),
        (OFFICE, MONDAY_AFTER_LUNCH, True),
        (OFFICE, MONDAY_CLOSING, False),
        (OFFICE, CHRISTMAS_EVE_1000, False),  # a Tuesday, but closed for Christmas
        (OFFICE, AFTER_CHRISTMAS_OPENING, True),
        (OFFICE, FRIDAY_AFTER_CHRISTMAS_1300, False),  # Fridays close at noon
        (OFFICE, MIDSUMMER_THURSDAY_1059, True),
        (OFFICE, MIDSUMMER_THURSDAY_1100, False),
    ],
)
def test_is_open(hours_: OpeningHours, now: datetime, is_open: bool) -> None:
    assert hours_.is_open(now) is is_open
    # The same instant in any offset gets the same answer.
    assert hours_.is_open(now.astimezone(STOCKHOLM)) is is_open
    assert hours_.is_open(now.astimezone(timezone(timedelta(hours=-5)))) is is_open


@pytest.mark.parametrize(
    ("hours_", "now", "expected"),
    [
        (DAILY, SPRING_EVE, SPRING_OPENING),  # 24 hours after 09:00 CET would be 10:00 CEST
        (DAILY, SPRING_DAY_BEFORE_OPENING, SPRING_OPENING),
        (DAILY, SPRING_OPENING, SPRING_OPENING),  # at the opening instant: now
        (DAILY, AUTUMN_EVE, AUTUMN_OPENING),
        (DAILY, AUTUMN_0830, AUTUMN_OPENING),
        (OFFICE, MONDAY_BEFORE_OPENING, MONDAY_OPENING),
        (OFFICE, MONDAY_1000, MONDAY_AFTER_LUNCH),  # open now: the next opening after this
        (OFFICE, MONDAY_LUNCH, MONDAY_AFTER_LUNCH),
        (OFFICE, DAY_BEFORE_CHRISTMAS_CLOSING, AFTER_CHRISTMAS_OPENING),
        (OFFICE, CHRISTMAS_EVE_1000, AFTER_CHRISTMAS_OPENING),
        (OFFICE, FRIDAY_AFTER_CHRISTMAS_1300, MONDAY_AFTER_CHRISTMAS_OPENING),
    ],
)
def test_next_opening(hours_: OpeningHours, now: datetime, expected: datetime) -> None:
    opening = hours_.next_opening(now)
    assert opening == expected
    assert opening is not None
    assert opening.tzinfo is STOCKHOLM
    assert hours_.is_open(opening)


@pytest.mark.parametrize(
    ("horizon_days", "expected"),
    [(3, MONDAY_AFTER_CHRISTMAS_OPENING), (2, None), (0, None)],
)
def test_next_opening_stops_at_the_horizon(horizon_days: int, expected: datetime | None) -> None:
    # From Friday afternoon the next opening is Monday, three days later.
    assert OFFICE.next_opening(FRIDAY_AFTER_CHRISTMAS_1300, horizon_days) == expected


def test_next_opening_of_an_office_that_never_opens_is_none() -> None:
    assert OpeningHours(weekly={}).next_opening(MONDAY_OPENING) is None


@pytest.mark.parametrize(
    ("hours_", "now", "expected"),
    [
        (DAILY, SPRING_OPENING, SPRING_CLOSING),
        (DAILY, SPRING_0930, SPRING_CLOSING),
        (DAILY, SPRING_CLOSING, None),
        (DAILY, AUTUMN_OPENING, AUTUMN_CLOSING),
        (OFFICE, MONDAY_1000, MONDAY_LUNCH),
        (OFFICE, MONDAY_AFTER_LUNCH, MONDAY_CLOSING),
        (OFFICE, MONDAY_LUNCH, None),
        (OFFICE, MIDSUMMER_THURSDAY_1059, MIDSUMMER_THURSDAY_1100),
        (OFFICE, CHRISTMAS_EVE_1000, None),
    ],
)
def test_closes_at(hours_: OpeningHours, now: datetime, expected: datetime | None) -> None:
    closing = hours_.closes_at(now)
    assert closing == expected
    if closing is not None:
        assert closing.tzinfo is STOCKHOLM
        assert not hours_.is_open(closing)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 12, 2), (MORNING, AFTERNOON)),  # Monday: weekly hours
        (date(2024, 12, 4), (MORNING, AFTERNOON)),  # Wednesday, given out of order: sorted
        (date(2024, 12, 6), (MORNING,)),  # Friday
        (date(2024, 12, 7), ()),  # Saturday: no weekly hours
        (date(2024, 12, 24), ()),  # Julafton, a Tuesday: the exception wins
        (date(2024, 6, 20), (hours("08:00", "11:00"),)),
    ],
)
def test_intervals_on(day: date, expected: tuple[Interval, ...]) -> None:
    assert OFFICE.intervals_on(day) == expected


def test_exception_on_gives_the_note() -> None:
    exception = OFFICE.exception_on(date(2024, 12, 25))
    assert exception is not None
    assert exception.note == "Juldagen"
    assert OFFICE.exception_on(date(2024, 12, 2)) is None


def test_a_naive_instant_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        OFFICE.is_open(datetime(2024, 12, 2, 10, 0))  # no tzinfo: the point of the test


@pytest.mark.parametrize(
    ("opens", "closes"),
    [(time(12, 0), time(12, 0)), (time(16, 0), time(8, 0)), (time(8, 0, tzinfo=UTC), time(9, 0))],
)
def test_invalid_interval(opens: time, closes: time) -> None:
    with pytest.raises(InvalidInput):
        Interval(opens, closes)


@pytest.mark.parametrize(
    "intervals",
    [
        (hours("08:00", "12:00"), hours("11:00", "16:00")),  # overlap
        (hours("08:00", "12:00"), hours("12:00", "16:00")),  # touch: write 08:00-16:00
        (hours("08:00", "12:00"), hours("08:00", "12:00")),  # the same twice
    ],
)
def test_overlapping_intervals_are_invalid_input(intervals: tuple[Interval, ...]) -> None:
    with pytest.raises(InvalidInput):
        OpeningHours(weekly={0: intervals})
    with pytest.raises(InvalidInput):
        DayException(date(2024, 12, 2), intervals, "")


@pytest.mark.parametrize("weekday", [-1, 7])
def test_weekday_out_of_range_is_invalid_input(weekday: int) -> None:
    with pytest.raises(InvalidInput):
        OpeningHours(weekly={weekday: (MORNING,)})


def test_two_exceptions_for_one_day_are_invalid_input() -> None:
    day = date(2024, 12, 24)
    with pytest.raises(InvalidInput):
        OpeningHours(weekly={}, exceptions=(DayException(day, ()), DayException(day, (MORNING,))))


def test_weekly_hours_do_not_change_with_the_callers_dict() -> None:
    weekly = {0: (MORNING,)}
    office = OpeningHours(weekly=weekly)
    weekly[1] = (MORNING,)
    assert office.intervals_on(date(2024, 12, 3)) == ()


def test_negative_horizon_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        OFFICE.next_opening(MONDAY_OPENING, horizon_days=-1)
