"""The policy calendar in force: the shipped default, or a region's own file from settings."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from ekort.domain.policy_calendar import PolicyCalendar, default_calendar


@cache
def current_calendar() -> PolicyCalendar:
    path = settings.EKORT_POLICY_CALENDAR
    return PolicyCalendar.load(path) if path else default_calendar()
