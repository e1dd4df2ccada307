"""The policy calendar as a timeline: one equal-width segment per period, so that a one-day
period is as readable as a year-long one, and the chosen date marked inside its period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ekort.domain.policy_calendar import Period, PolicyCalendar

WIDTH = 960
HEIGHT = 96
# An open-ended period is drawn as if it ran this long past its known end (or before its
# known start), to place a date inside it.
OPEN_SPAN = timedelta(days=365)


@dataclass(frozen=True)
class Segment:
    period: Period
    x: float
    width: float
    chosen: bool

    @property
    def sv(self) -> str:  # for the in_language filter
        return self.period.summary_sv

    @property
    def en(self) -> str:
        return self.period.summary_en

    @property
    def days(self) -> str:
        """The period's first and last day, both included, as every report writes them."""
        return self.period.days

    @property
    def ends(self) -> tuple[str, str]:
        """The first and the last day as `days` writes them, for a page that keeps each whole."""
        first, last = self.period.days.split(" – ")
        return first, last

    @property
    def centre(self) -> float:
        return self.x + self.width / 2

    @property
    def link_day(self) -> date:
        """The day a link to this period shows: its first day, or its last if it starts open."""
        day = self.period.first_day or self.period.last_day
        assert day is not None  # a calendar has at least one bounded end per period
        return day


@dataclass(frozen=True)
class Timeline:
    segments: list[Segment]
    chosen_day: date
    marker_x: float
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def chosen(self) -> Segment:
        return next(s for s in self.segments if s.chosen)

    @property
    def marker_percent(self) -> float:
        """Where the chosen date lies inside its period's segment, 0 to 100: the page draws the
        segments in HTML, as wide as the screen allows, so the marker is placed in per cent."""
        chosen = self.chosen
        return round(min(max((self.marker_x - chosen.x) / chosen.width, 0.0), 1.0) * 100, 1)


def _fraction(period: Period, day: date) -> float:
    """Where in the period the day lies, 0 (first day) to 1 (after the last day)."""
    first, last = period.first_day, period.last_day
    if first is None and last is None:
        return 0.5
    if first is None:
        assert last is not None
        first = last - OPEN_SPAN
    if last is None:
        last = first + OPEN_SPAN
    span = (last - first).days + 1
    offset = min(max((day - first).days, 0), span - 1)
    return (offset + 0.5) / span


def timeline(calendar: PolicyCalendar, day: date) -> Timeline:
    """The calendar's periods side by side, the one covering `day` chosen and marked."""
    periods = calendar.periods
    step = WIDTH / len(periods)
    chosen = calendar.period_on(day)
    segments = [
        Segment(period, round(i * step, 1), round(step, 1), period is chosen)
        for i, period in enumerate(periods)
    ]
    index = periods.index(chosen)
    marker = round(index * step + step * _fraction(chosen, day), 1)
    return Timeline(segments, day, marker)
