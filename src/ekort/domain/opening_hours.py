"""Card offices' opening hours (R18), in Swedish wall-clock time.

Hours are written as an office writes them on its door ("08:00-16:00"), in Europe/Stockholm
local time, whatever the offset of the instant asked about. An interval opens at its opening
time (inclusive) and is closed from its closing time on (exclusive).

All comparisons between instants are made in UTC. Python compares two aware datetimes that
share a tzinfo by their wall-clock fields alone, ignoring `fold`, which gets the repeated hour
of the autumn DST switch wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType

from .errors import InvalidInput
from .timekeeping import STOCKHOLM, require_aware


@dataclass(frozen=True)
class Interval:
    """One stretch of opening on a day, e.g. 08:00-12:00."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise InvalidInput(
                "Opening hours are Swedish local clock times; give them without a time zone."
            )
        if not self.opens < self.closes:
            raise InvalidInput(
                f"An office must open before it closes; {self.opens.isoformat('minutes')} is "
                f"not before {self.closes.isoformat('minutes')}."
            )


def _sorted_intervals(intervals: Iterable[Interval], where: str) -> tuple[Interval, ...]:
    """Sort a day's intervals; refuse two that overlap or touch (those are one interval)."""
    ordered = tuple(sorted(intervals, key=lambda interval: interval.opens))
    for earlier, later in pairwise(ordered):
        if later.opens <= earlier.closes:
            raise InvalidInput(
                f"The opening hours for {where} overlap or touch at "
                f"{later.opens.isoformat('minutes')}; write them as one interval."
            )
    return ordered


@dataclass(frozen=True)
class DayException:
    """Hours that replace the weekly ones on one day. No intervals: closed (e.g. a holiday)."""

    day: date
    intervals: tuple[Interval, ...]
    note: str = ""

    def __post_init__(self) -> None:
        # Frozen, so normalise through object.__setattr__; callers may pass a list.
        object.__setattr__(
            self, "intervals", _sorted_intervals(self.intervals, self.day.isoformat())
        )


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _instant(day: date, wall: time) -> datetime:
    """The instant the Stockholm clock shows `wall` on `day`, as an aware Stockholm datetime.

    A time shown twice (the autumn switch) means its first occurrence (fold=0). A time that
    does not exist (the spring gap, 02:00-03:00) is read with the winter offset, which lands the
    same distance after the gap; offices keep day hours, so this only matters in theory.
    """
    on_the_clock = datetime.combine(day, wall, tzinfo=STOCKHOLM)
    # The round trip through UTC turns a time in the gap into a real clock reading.
    return on_the_clock.astimezone(UTC).astimezone(STOCKHOLM)


@dataclass(frozen=True)
class OpeningHours:
    """An office's hours: a weekly pattern (0 = Monday; a missing day is closed) and exceptions."""

    weekly: Mapping[int, tuple[Interval, ...]]
    exceptions: tuple[DayException, ...] = field(default=())

    def __post_init__(self) -> None:
        weekly: dict[int, tuple[Interval, ...]] = {}
        for weekday, intervals in self.weekly.items():
            if weekday not in range(7):
                raise InvalidInput(f"Weekday {weekday} does not exist; use 0 (Monday) to 6.")
            weekly[weekday] = _sorted_intervals(intervals, _WEEKDAYS[weekday])
        # A read-only copy: a frozen object should not change when the caller's dict does.
        object.__setattr__(self, "weekly", MappingProxyType(weekly))

        exceptions = tuple(sorted(self.exceptions, key=lambda exception: exception.day))
        for earlier, later in pairwise(exceptions):
            if earlier.day == later.day:
                raise InvalidInput(
                    f"There are two exceptions for {later.day.isoformat()}; keep one."
                )
        object.__setattr__(self, "exceptions", exceptions)

    def exception_on(self, day: date) -> DayException | None:
        """The exception for `day`, if any (its note says why, e.g. "Juldagen")."""
        for exception in self.exceptions:
            if exception.day == day:
                return exception
        return None

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The hours on `day`: an exception wins over the weekly pattern."""
        exception = self.exception_on(day)
        if exception is not None:
            return exception.intervals
        return self.weekly.get(day.weekday(), ())

    def _spans_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's intervals as (opening, closing) instants."""
        return tuple(
            (_instant(day, interval.opens), _instant(day, interval.closes))
            for interval in self.intervals_on(day)
        )

    def _current_span(self, now: datetime) -> tuple[datetime, datetime] | None:
        instant = require_aware(now).astimezone(UTC)
        local_day = instant.astimezone(STOCKHOLM).date()
        for opens, closes in self._spans_on(local_day):
            if opens.astimezone(UTC) <= instant < closes.astimezone(UTC):
                return opens, closes
        return None

    def is_open(self, now: datetime) -> bool:
        """Whether the office is open at `now`, judged by the Stockholm clock."""
        return self._current_span(now) is not None

    def closes_at(self, now: datetime) -> datetime | None:
        """When the office closes, if it is open at `now`; None if it is closed."""
        span = self._current_span(now)
        return None if span is None else span[1]

    def next_opening(self, now: datetime, horizon_days: int = 31) -> datetime | None:
        """The first opening at or after `now`, within `horizon_days` days after today.

        An office that is open at `now` has already opened: the answer is its next opening
        after that, so "open now, closes 16:00" and "opens Monday 08:00" never mix. None if the
        office does not open within the horizon (closed for the summer, say).
        """
        if horizon_days < 0:
            raise InvalidInput("The horizon must be zero or more days.")
        instant = require_aware(now).astimezone(UTC)
        today = instant.astimezone(STOCKHOLM).date()
        for offset in range(horizon_days + 1):
            for opens, _closes in self._spans_on(today + timedelta(days=offset)):
                if opens.astimezone(UTC) >= instant:
                    return opens
        return None
