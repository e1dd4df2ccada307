"""Region Gävleborg: the organisation and its units, and the five towns with their card offices,
weekly opening hours and the streets and postal codes the demo's persons live at. The offices'
holidays and early closings come from `closed_days`; everything is written through the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from ekort.domain.opening_hours import DayException, Interval, OpeningHours
from ekort.services import offices, organisation
from ekort.store.models import CardOffice, Unit

from .closed_days import closed_days, half_days
from .timeline import clock

ORGANISATION_NAME = "Region Gävleborg"
ORGANISATION_NUMBER = "2321000198"  # Region Gävleborg, 232100-0198


@dataclass(frozen=True)
class Town:
    name: str
    postal_codes: tuple[str, ...]
    streets: tuple[str, ...]
    office: str
    office_street: str
    office_postal_code: str
    office_phone: str
    hours: dict[int, tuple[tuple[str, str], ...]]  # 0 = Monday


_MORNING_AND_AFTERNOON = (("08:00", "11:30"), ("12:30", "16:00"))
TOWNS: tuple[Town, ...] = (
    Town(
        "Gävle",
        ("80250", "80255", "80320", "80427", "80633", "80646"),
        (
            "Drottninggatan",
            "Nygatan",
            "Norra Kungsgatan",
            "Södra Kungsgatan",
            "Staketgatan",
            "Brynäsgatan",
            "Ölandsgatan",
            "Hemlingbyvägen",
        ),
        "Kortkontoret Gävle sjukhus",
        "Lasarettsvägen 1, entré 5",
        "80187",
        "026-15 40 50",
        {
            0: _MORNING_AND_AFTERNOON,
            1: _MORNING_AND_AFTERNOON,
            2: _MORNING_AND_AFTERNOON,
            3: _MORNING_AND_AFTERNOON,
            4: (("08:00", "12:00"),),
        },
    ),
    Town(
        "Sandviken",
        ("81130", "81134", "81137", "81141"),
        ("Storgatan", "Köpmangatan", "Hyttgatan", "Järnvägsgatan", "Västanbyvägen"),
        "Kortkontoret Sandvikens sjukhus",
        "Lasarettsgatan 3",
        "81189",
        "026-27 60 10",
        {
            0: (("08:30", "12:00"), ("13:00", "15:30")),
            1: (("08:30", "12:00"),),
            2: (("08:30", "12:00"), ("13:00", "15:30")),
            3: (("08:30", "12:00"),),
            4: (("08:30", "11:30"),),
        },
    ),
    Town(
        "Hudiksvall",
        ("82430", "82435", "82441", "82450"),
        ("Storgatan", "Västra Tullgatan", "Hamngatan", "Köpmangatan", "Håstaholmsvägen"),
        "Kortkontoret Hudiksvalls sjukhus",
        "Lasarettsvägen 29",
        "82481",
        "0650-920 40",
        {
            0: (("08:00", "12:00"), ("13:00", "15:00")),
            1: (("08:00", "12:00"), ("13:00", "15:00")),
            2: (("08:00", "12:00"), ("13:00", "15:00")),
            3: (("08:00", "12:00"), ("13:00", "15:00")),
            4: (("08:00", "11:00"),),
        },
    ),
    Town(
        "Bollnäs",
        ("82130", "82131", "82141", "82143"),
        ("Långgatan", "Odengatan", "Stationsgatan", "Flästavägen", "Säverstagatan"),
        "Kortkontoret Bollnäs sjukhus",
        "Sjukhusvägen 2",
        "82181",
        "0278-64 10 20",
        {
            0: (("09:00", "11:30"),),
            1: (("09:00", "11:30"), ("13:00", "15:30")),
            2: (("09:00", "11:30"),),
            3: (("09:00", "11:30"), ("13:00", "15:30")),
            4: (("09:00", "11:30"),),
        },
    ),
    Town(
        "Ljusdal",
        ("82730", "82731", "82733"),
        ("Norra Järnvägsgatan", "Stationsgatan", "Riksvägen", "Sveavägen", "Ljusnegatan"),
        "Kortkontoret Ljusdals hälsocentral",
        "Ringvägen 2",
        "82730",
        "0651-76 40 30",
        {
            0: (("08:30", "11:30"), ("12:30", "15:00")),
            1: (("08:30", "11:30"), ("12:30", "15:00")),
            2: (("08:30", "11:30"),),
            3: (("08:30", "11:30"), ("12:30", "15:00")),
            4: (("08:30", "11:00"),),
        },
    ),
)
TOWN = {town.name: town for town in TOWNS}

# key, name, town
UNITS: tuple[tuple[str, str, str], ...] = (
    ("ledning", "Hälso- och sjukvårdsförvaltningen, ledning", "Gävle"),
    ("akut", "Akutmottagningen, Gävle sjukhus", "Gävle"),
    ("hcsandviken", "Hälsocentralen Sandviken", "Sandviken"),
    ("medhudik", "Medicinkliniken, Hudiksvalls sjukhus", "Hudiksvall"),
    ("ortobollnas", "Ortopedkliniken, Bollnäs sjukhus", "Bollnäs"),
    ("ambljusdal", "Ambulanssjukvården Ljusdal", "Ljusdal"),
    ("it", "Regionservice IT, e-tjänstekort", "Gävle"),
)


def create_region() -> dict[str, Unit]:
    """The organisation and its units, by key."""
    region = organisation.create_organisation(
        name=ORGANISATION_NAME, organisation_number=ORGANISATION_NUMBER
    )
    return {
        key: organisation.create_unit(
            organisation_id=region.pk,
            name=name,
            hsa_id=f"SE{ORGANISATION_NUMBER}-E{1000000100 + number:011d}",
        )
        for number, (key, name, _town) in enumerate(UNITS, start=1)
    }


def create_offices(build_day: date) -> dict[str, CardOffice]:
    """The card offices, by town, with their holidays and early closings from the December
    before the build day's year to the Epiphany after it (and at least the 2023-24 holidays)."""
    first = min(date(2023, 12, 1), date(build_day.year - 1, 12, 1))
    last = max(date(2024, 1, 6), date(build_day.year + 1, 1, 6))
    years = range(first.year, last.year + 1)
    closed = {day: name for day, name in closed_days(years).items() if first <= day <= last}
    half = {day: name for day, name in half_days(years).items() if first <= day <= last}
    return {
        town.name: offices.create_office(
            name=town.office,
            town=town.name,
            street_address=town.office_street,
            postal_code=town.office_postal_code,
            phone=town.office_phone,
            hours=_hours(town, closed, half),
        )
        for town in TOWNS
    }


def _hours(town: Town, closed: dict[date, str], half: dict[date, str]) -> OpeningHours:
    weekly = {
        weekday: tuple(Interval(clock(opens), clock(closes)) for opens, closes in spans)
        for weekday, spans in town.hours.items()
    }
    exceptions = [DayException(day, (), f"{name}: stängt") for day, name in closed.items()]
    for day, name in half.items():
        spans = town.hours.get(day.weekday(), ())
        if spans and day not in closed:
            closes = min(clock(spans[0][1]), time(12))  # the morning only
            morning = Interval(clock(spans[0][0]), closes)
            exceptions.append(DayException(day, (morning,), f"{name}: stänger {closes:%H.%M}"))
    return OpeningHours(weekly, tuple(exceptions))
