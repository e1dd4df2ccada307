"""Named instants around the rules' boundaries, in Swedish local time (CET is +01:00)."""

from datetime import datetime

from ekort.domain.timekeeping import STOCKHOLM


def sthlm(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=STOCKHOLM)


LEGACY_SIS = sthlm(2022, 5, 10, 10)
LEGACY_COMPANY = sthlm(2023, 3, 14, 10)
LAST_LEGACY_DAY_END = sthlm(2023, 12, 17, 23, 59, 59)
RESERVE_ONLY_START = sthlm(2023, 12, 18)
RESERVE_ONLY = sthlm(2024, 1, 10, 10)
LAST_PICKUP_DAY = sthlm(2024, 1, 22, 15)
LAST_PICKUP_DAY_END = sthlm(2024, 1, 22, 23, 59, 59)
STOP_START = sthlm(2024, 1, 23)
DURING_FREEZE = sthlm(2024, 1, 24, 10)
NEW_GENERATION_DAY = sthlm(2024, 1, 25, 10)
NEW_PROCESS_START = sthlm(2024, 1, 26)
NEW_PROCESS = sthlm(2024, 1, 31, 10)
LAST_STOP_DAY_END = sthlm(2024, 1, 25, 23, 59, 59)
# R8: a card sent on NEW_PROCESS (2024-01-31) must be activated by 2024-04-30 (clamped).
LAST_ACTIVATION_DAY_END = sthlm(2024, 4, 30, 23, 59, 59)
AFTER_ACTIVATION_WINDOW = sthlm(2024, 5, 1)
# Week boundaries, counted in Swedish time (ISO weeks, Monday to Sunday): the last second of
# week 5 of 2024 and the first of week 6. In UTC the Monday midnight is still Sunday (23:00).
LAST_SECOND_OF_WEEK_5 = sthlm(2024, 2, 4, 23, 59, 59)
FIRST_SECOND_OF_WEEK_6 = sthlm(2024, 2, 5)
# The same in summer time (+02:00): Monday 00:30 of week 23 is Sunday 22:30 UTC.
SUNDAY_END_OF_WEEK_22 = sthlm(2024, 6, 2, 23, 59, 59)
MONDAY_OF_WEEK_23 = sthlm(2024, 6, 3, 0, 30)
