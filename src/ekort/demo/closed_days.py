"""The days the demo's card offices keep closed, or close at noon.

Closed all day: Sweden's public holidays and its three de facto holidays (midsommarafton,
julafton, nyårsafton), as the `holidays` library has them, less the public holidays that always
fall on a Saturday or Sunday, when the offices are closed anyway. Closed at noon: the eves of
trettondedag jul, långfredagen and första maj, also as the library has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays
from holidays.constants import DE_FACTO, OPTIONAL, PUBLIC

# Påskdagen and pingstdagen are Sundays, midsommardagen and alla helgons dag Saturdays.
ALWAYS_AT_A_WEEKEND = frozenset({"Påskdagen", "Pingstdagen", "Midsommardagen", "Alla helgons dag"})
# The library names these "<name> (från kl. 14.00)"; the demo's offices close at noon.
HALF_DAYS = frozenset({"Trettondagsafton", "Skärtorsdagen", "Valborgsmässoafton"})


def _sweden(years: Iterable[int], *categories: str) -> dict[date, list[str]]:
    calendar = holidays.Sweden(
        years=list(years), categories=categories, include_sundays=False, language="sv"
    )
    return {day: calendar.get_list(day) for day in sorted(calendar)}


def closed_days(years: Iterable[int]) -> dict[date, str]:
    """The days in `years` the card offices are closed, with the holiday's name."""
    closed = {}
    for day, names in _sweden(years, PUBLIC, DE_FACTO).items():
        kept = [name for name in names if name not in ALWAYS_AT_A_WEEKEND]
        if kept:
            closed[day] = ", ".join(kept)
    return closed


def half_days(years: Iterable[int]) -> dict[date, str]:
    """The eves in `years` the card offices close at noon, with the eve's name."""
    half = {}
    for day, names in _sweden(years, OPTIONAL).items():
        kept = [name.split(" (")[0] for name in names if name.split(" (")[0] in HALF_DAYS]
        if kept:
            half[day] = ", ".join(kept)
    return half
