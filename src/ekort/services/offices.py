"""Card offices and their opening hours (R18): written from the domain's `OpeningHours`, and
read back into it, which decides whether an office is open at an instant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from ekort.domain.opening_hours import DayException, Interval, OpeningHours
from ekort.store.models import CardOffice, OpeningException, OpeningInterval


@dataclass(frozen=True)
class OfficeStatus:
    office: CardOffice
    hours: OpeningHours
    open_now: bool
    closes_at: datetime | None
    next_opening: datetime | None


def create_office(
    *, name: str, town: str, street_address: str, postal_code: str, phone: str, hours: OpeningHours
) -> CardOffice:
    """A card office with its weekly hours and the days that differ from them (a holiday is an
    exception without intervals: closed all day)."""
    with transaction.atomic():
        office = CardOffice.objects.create(
            name=name,
            town=town,
            street_address=street_address,
            postal_code=postal_code,
            phone=phone,
        )
        OpeningInterval.objects.bulk_create(
            OpeningInterval(office=office, weekday=weekday, opens=span.opens, closes=span.closes)
            for weekday, intervals in hours.weekly.items()
            for span in intervals
        )
        rows: list[OpeningException] = []
        for exception in hours.exceptions:
            if not exception.intervals:
                rows.append(OpeningException(office=office, day=exception.day, note=exception.note))
            rows += [
                OpeningException(
                    office=office,
                    day=exception.day,
                    opens=span.opens,
                    closes=span.closes,
                    note=exception.note,
                )
                for span in exception.intervals
            ]
        OpeningException.objects.bulk_create(rows)
    return office


def opening_hours_of(office: CardOffice) -> OpeningHours:
    weekly: dict[int, list[Interval]] = defaultdict(list)
    hours: Iterable[OpeningInterval] = office.hours.all()
    for row in hours:
        weekly[row.weekday].append(Interval(row.opens, row.closes))
    by_day: dict[date, list[Interval]] = {}
    notes: dict[date, str] = {}
    exceptions: Iterable[OpeningException] = office.exceptions.all()
    for exception in exceptions:
        # A closed day has no intervals but must still be listed.
        intervals = by_day.setdefault(exception.day, [])
        notes[exception.day] = exception.note
        if exception.opens is not None and exception.closes is not None:
            intervals.append(Interval(exception.opens, exception.closes))
    return OpeningHours(
        {day: tuple(intervals) for day, intervals in weekly.items()},
        tuple(DayException(day, tuple(iv), notes[day]) for day, iv in sorted(by_day.items())),
    )


def offices_by_town(now: datetime) -> list[OfficeStatus]:
    """Every card office, by town, with whether it is open at `now`."""
    offices = CardOffice.objects.prefetch_related("hours", "exceptions").order_by("town", "name")
    statuses = []
    for office in offices:
        hours = opening_hours_of(office)
        statuses.append(
            OfficeStatus(
                office=office,
                hours=hours,
                open_now=hours.is_open(now),
                closes_at=hours.closes_at(now),
                next_opening=hours.next_opening(now),
            )
        )
    return statuses
