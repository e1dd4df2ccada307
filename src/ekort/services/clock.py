"""The one place that reads the clock.

With EKORT_SIMULATED_NOW set (never in production: settings refuse it), the process starts at
that instant and time runs on from there, so the January 2024 transition can be replayed with
deadlines passing as they would. Everything else receives `now` as an argument.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings

from ekort.domain.timekeeping import STOCKHOLM, parse_instant


@cache
def _simulation_anchor() -> tuple[datetime, float] | None:
    text = settings.EKORT_SIMULATED_NOW
    if not text:
        return None
    return parse_instant(text), time.monotonic()


def is_simulated() -> bool:
    return _simulation_anchor() is not None


def now() -> datetime:
    """The current instant, aware, in Stockholm time (simulated where configured)."""
    anchor = _simulation_anchor()
    if anchor is None:
        return datetime.now(STOCKHOLM)
    start, started = anchor
    return (start + timedelta(seconds=time.monotonic() - started)).astimezone(STOCKHOLM)


def reset() -> None:
    """Forget the simulation anchor, so that changed settings take effect (tests use this)."""
    _simulation_anchor.cache_clear()
