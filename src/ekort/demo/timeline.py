"""The demo's clock: when the history starts, the working days of the card offices, and the
events of the history, played in time order up to the build instant.

Each step of the history is recorded as an event at its instant; `play()` runs them in time
order and, on every night when a card fell due (not collected, R3; not activated, R8; expired),
runs the deadline jobs first, as the nightly scheduler would have.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Min, Q

from ekort.domain.errors import DomainError
from ekort.domain.lifecycle import LIVE_STATES, CardState
from ekort.domain.timekeeping import STOCKHOLM, local_date, start_of_local_day
from ekort.services import deadlines, notices
from ekort.store.models import Card

from .closed_days import closed_days

SEED = 20240125
# The region's register is loaded, and the story begins, on this morning.
HISTORY_START = datetime(2018, 9, 3, 8, 0, tzinfo=STOCKHOLM)
EARLIEST_BUILD = datetime(2019, 1, 1, tzinfo=STOCKHOLM)

# The clock times steps happen at, by who takes them.
OFFICE_TIMES = ("09:05", "09:20", "09:35", "09:50", "10:05", "10:20", "10:35")
BACK_OFFICE_TIMES = ("08:20", "10:40", "13:15", "14:05", "14:50")
ORDER_TIMES = ("08:35", "09:10", "11:25", "13:40", "15:05")
ANY_TIMES = ("07:55", "12:10", "16:30", "19:45")


class DemoError(DomainError):
    """The demo cannot be built here; the message says why."""


def clock(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def instant(day: date, hhmm: str) -> datetime:
    """`hhmm` on `day`, Stockholm time."""
    return datetime.combine(day, clock(hhmm), tzinfo=STOCKHOLM)


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    label: str = field(compare=False)
    run: Callable[[], object] = field(compare=False)


class Timeline:
    """The events of the history and the working days they fall on."""

    def __init__(self, build_at: datetime) -> None:
        self.build_at = build_at
        self.rng = random.Random(SEED)  # noqa: S311 (made-up demo data, not secrets)
        self.events: list[Event] = []
        self.closed = closed_days(range(HISTORY_START.year, local_date(build_at).year + 2))
        self.last_at = HISTORY_START

    def begin_story(self, key: str) -> None:
        """Each person's story draws from its own random stream, so that a story left out
        (a current card the calendar does not allow yet) changes no other."""
        self.rng = random.Random(f"{SEED}:{key}")  # noqa: S311

    def event(self, at: datetime, label: str, run: Callable[[], object]) -> None:
        self.events.append(Event(at, len(self.events), label, run))

    # --- playing ---

    def play(self) -> None:
        """Run the events up to the build instant in time order, with the nightly jobs."""
        for event in sorted(self.events):
            if event.at > self.build_at:
                break
            self._nightly_jobs(until=event.at)
            try:
                event.run()
            except DomainError as error:
                raise DemoError(
                    f"The demo step '{event.label}' at {event.at.isoformat()} was refused: {error}"
                ) from error
            self.last_at = event.at
        self._nightly_jobs(until=self.build_at)
        deadlines.run_all(self.build_at)
        # The build night's e-mail notices, as `ekort jobs run` sends them after the sweeps:
        # to those with an address, into the outbox (`make run`: var/outbox/).
        notices.run(self.build_at)

    def _nightly_jobs(self, until: datetime) -> None:
        """Run the deadline jobs on every night, up to `until`, after something fell due."""
        while True:
            due = Card.objects.aggregate(
                pickup=Min("pickup_deadline", filter=Q(state=CardState.AWAITING_PICKUP)),
                activation=Min("activation_deadline", filter=Q(state=CardState.SENT_INACTIVE)),
                validity=Min("valid_until", filter=Q(state__in=LIVE_STATES)),
            )
            days = [day for day in due.values() if day is not None]
            if not days:
                return
            night = start_of_local_day(min(days) + timedelta(days=1)) + timedelta(minutes=15)
            if night > until:
                return
            night = max(night, self.last_at)
            deadlines.run_all(night)
            self.last_at = night

    # --- working days ---

    def workday(self, day: date) -> date:
        while day.weekday() >= 5 or day in self.closed:
            day += timedelta(days=1)
        return day

    def on(self, year: int, month: int, day: int, times: Iterable[str] = OFFICE_TIMES) -> datetime:
        return instant(self.workday(date(year, month, day)), self.rng.choice(tuple(times)))

    def between(self, first: date, last: date, times: Iterable[str] = ORDER_TIMES) -> datetime:
        day = first + timedelta(days=self.rng.randint(0, (last - first).days))
        return instant(self.workday(day), self.rng.choice(tuple(times)))

    def after(
        self, previous: datetime, low: int, high: int, times: Iterable[str] = OFFICE_TIMES
    ) -> datetime:
        """A working day `low`..`high` days after `previous`, at one of `times`."""
        day = self.workday(local_date(previous) + timedelta(days=self.rng.randint(low, high)))
        moment = instant(day, self.rng.choice(tuple(times)))
        if moment <= previous:
            moment = instant(self.workday(day + timedelta(days=1)), self.rng.choice(tuple(times)))
        return moment

    def workdays_before_build(self, count: int, hhmm: str) -> datetime:
        day = local_date(self.build_at)
        while count:
            day -= timedelta(days=1)
            if day.weekday() < 5 and day not in self.closed:
                count -= 1
        return instant(day, hhmm)
