"""The transition week by week: three rows of columns on one time line (cards activated, cards
blocked because a deadline passed, cards still to activate at the week's end), each with its
own heading and scale, so that no colour has to tell them apart.

Each row's columns are an inline SVG that holds no text and stretches to the page's width (one
unit of its viewBox per week); the headings and the week labels under the rows are HTML, so
they keep the page's size on a phone however many weeks there are, and the page never scrolls
sideways. The page gives the same figures in a table (`_weeks.html`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from ekort.domain.transition_weeks import WeekFigures

HEIGHT = 60  # px: a row's tallest column
BAR = 0.7  # of a week's width; the rest is the gap between columns
# Fewer weeks than this (a transition's first months) draw narrower columns in their wider
# weeks, as thick as this many weeks would draw them, instead of a few blocks across the page.
FEW_WEEKS = 26


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    height: float
    tip: str  # the week and the figure, shown on hover


@dataclass(frozen=True)
class Row:
    key: str  # for the ids of the row's title and description
    heading: str
    scale: str  # "högst 5 på en vecka"
    summary: str  # the row in a sentence, for its <desc>
    colour: str
    columns: list[Column]


@dataclass(frozen=True)
class WeekChart:
    title: str
    span: str  # the first and last week: "v. 4 2024 – v. 49 2026"
    summary: str  # the chart in a sentence
    weeks: int  # the viewBox's width
    height: int
    bar: float
    rows: list[Row]
    labels: list[str]  # under the rows: the first, middle and last week


def week_label(week: WeekFigures) -> str:
    return _("v. %(week)d %(year)d") % {"week": week.week, "year": week.year}


def _row(
    key: str,
    heading: str,
    colour: str,
    weeks: Sequence[WeekFigures],
    value: Callable[[WeekFigures], int],
    bar: float,
) -> Row:
    largest = max((value(week) for week in weeks), default=0)
    columns = []
    for i, week in enumerate(weeks):
        n = value(week)
        if n:
            height = round(HEIGHT * n / largest, 2)
            x = round(i + (1 - bar) / 2, 3)
            columns.append(Column(x, round(HEIGHT - height, 2), height, f"{week_label(week)}: {n}"))
    scale = _("högst %(n)d på en vecka") % {"n": largest}
    summary = _("%(what)s: %(scale)s; %(last)s: %(n)d.") % {
        "what": heading,
        "scale": scale,
        "last": week_label(weeks[-1]),
        "n": value(weeks[-1]),
    }
    return Row(key, heading, scale, summary, colour, columns)


def week_chart(weeks: Sequence[WeekFigures]) -> WeekChart | None:
    """The chart of `weeks`, oldest first; None without a week."""
    if not weeks:
        return None
    bar = round(BAR * min(1, len(weeks) / FEW_WEEKS), 3)
    rows = [
        _row("aktiverade", _("Aktiverade kort"), "#00578a", weeks, lambda w: w.activated, bar),
        _row(
            "sparrade",
            _("Spärrade vid tidsgräns"),
            "#a40000",
            weeks,
            lambda w: w.blocked_by_deadline,
            bar,
        ),
        _row("kvar", _("Kvar att aktivera"), "#4d4d4d", weeks, lambda w: w.still_to_activate, bar),
    ]
    first, last = week_label(weeks[0]), week_label(weeks[-1])
    middle = [week_label(weeks[len(weeks) // 2])] if len(weeks) >= 3 else []
    return WeekChart(
        title=_("Övergången vecka för vecka"),
        span=f"{first} – {last}",
        summary=_summary(weeks),
        weeks=len(weeks),
        height=HEIGHT,
        bar=bar,
        rows=rows,
        labels=[first, *middle, last] if len(weeks) > 1 else [first],
    )


def _summary(weeks: Sequence[WeekFigures]) -> str:
    return _(
        "Från %(first)s till %(last)s: %(activated)d kort aktiverade och %(blocked)d spärrade "
        "när tidsgränsen passerat; %(waiting)d kort kvar att aktivera nu."
    ) % {
        "first": week_label(weeks[0]),
        "last": week_label(weeks[-1]),
        "activated": sum(w.activated for w in weeks),
        "blocked": sum(w.blocked_by_deadline for w in weeks),
        "waiting": weeks[-1].still_to_activate,
    }
