"""Bar charts drawn on the server: no JavaScript, no library. The labels and numbers are HTML
text, so they keep the page's size on a phone (an SVG scaled down to the screen shrinks its
text); each bar is a rectangle as long as its share of the largest value. The page shows the
same numbers in a table beside each chart, for screen readers and for copying."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    percent: float  # of the largest value in the chart, 0 to 100


@dataclass(frozen=True)
class BarChart:
    key: str  # a unique id for the title element on the page
    title: str
    bars: list[Bar]

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    @property
    def summary(self) -> str:
        """The chart in one line."""
        return "; ".join(f"{bar.label}: {bar.value}" for bar in self.bars)


def bar_chart(key: str, title: str, rows: Sequence[tuple[str, int]]) -> BarChart:
    """Horizontal bars scaled to the largest value; a zero draws no bar but keeps its row."""
    largest = max((value for _, value in rows), default=0) or 1
    bars = [Bar(label, value, round(100 * value / largest, 1)) for label, value in rows]
    return BarChart(key, title, bars)
