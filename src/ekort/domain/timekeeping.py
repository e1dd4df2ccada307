"""Time in the rules: every rule speaks of dates in Swedish local time (Europe/Stockholm).

Functions here take an aware instant (`now`) and never read the clock themselves.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from .errors import InvalidInput

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def require_aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.tzinfo.utcoffset(now) is None:
        raise InvalidInput(
            f"The instant {now.isoformat()} has no time zone; give one (for example +01:00)."
        )
    return now


def local_date(now: datetime) -> date:
    """The calendar date in Stockholm at the instant `now`."""
    return require_aware(now).astimezone(STOCKHOLM).date()


def start_of_local_day(day: date) -> datetime:
    """The first instant of `day` in Stockholm (DST-safe: midnight exists on every Swedish day)."""
    return datetime.combine(day, time.min, tzinfo=STOCKHOLM)


def add_months(day: date, months: int) -> date:
    """`day` plus calendar months, clamped to the end of the month (2024-01-31 + 3 = 2024-04-30)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def add_years(day: date, years: int) -> date:
    """`day` plus whole years; 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant or date given by a person.

    A bare date means the start of that day in Stockholm; an instant without an offset is read
    as Stockholm local time. Anything else is refused with a sentence that says what to write.
    """
    cleaned = text.strip()
    try:
        if len(cleaned) == 10:
            return start_of_local_day(date.fromisoformat(cleaned))
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(
            "This is not a date or instant; write for example 2024-01-24 or 2024-01-24T10:00+01:00."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=STOCKHOLM)
    return parsed
