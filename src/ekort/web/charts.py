"""Bar charts drawn on the server as inline SVG: no JavaScript, no library. The page shows the
same numbers in a table beside each chart, for screen readers and for copying."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720
LABEL_WIDTH = 300
BAR_AREA = WIDTH - LABEL_WIDTH - 60  # room on the right for the number
BAR_HEIGHT = 22
GAP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: float
    text_y: int
    value_x: float


@dataclass(frozen=True)
class BarChart:
    key: str  # a unique id for the title element on the page
    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    @property
    def summary(self) -> str:
        """The chart in one line, for the SVG's <desc>."""
        return "; ".join(f"{bar.label}: {bar.value}" for bar in self.bars)


def bar_chart(key: str, title: str, rows: Sequence[tuple[str, int]]) -> BarChart:
    """Horizontal bars scaled to the largest value; a zero draws no bar but keeps its row."""
    largest = max((value for _, value in rows), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = round(BAR_AREA * value / largest, 1)
        bars.append(
            Bar(
                label=label,
                value=value,
                y=y,
                width=width,
                text_y=y + BAR_HEIGHT - 6,
                value_x=LABEL_WIDTH + width + 6,
            )
        )
    height = GAP + len(rows) * (BAR_HEIGHT + GAP)
    return BarChart(key, title, bars, WIDTH, height, LABEL_WIDTH)
