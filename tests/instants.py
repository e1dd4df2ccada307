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
