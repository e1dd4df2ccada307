"""The demo region behind `ekort demo`: Region Gävleborg, its card offices, about fifty persons
and their cards, the same every run (seeded random).

Nothing is written straight into the card tables. Persons are registered and every card is
ordered, photographed, produced, sent, handed out or activated, blocked, replaced or cancelled
through the services, at historical instants in time order, with the deadline jobs run on the
nights when something fell due (R3, R8, expiry). So every rule holds and the audit trail tells a
true story: SIS-marked cards from before 2022-10-01 (R17), reserve cards in the reserve-only
weeks (R1), photo cards waiting for the new portal (R2), cards not collected by 2024-01-22 (R3),
a block taken during the stop (R4), new-generation cards sent home and activated (R5-R9), PIN
letters and unlocks (R14-R16), and cards still on their way at the build instant.

The history is written for fixed dates; what lies after the build instant is left out. A few
cards are "current": placed a few working days before the build instant, each kept only if the
policy calendar allows every one of its steps then.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Count, Min, Q

from ekort.domain.errors import DomainError
from ekort.domain.four_eyes import needs_second_approval
from ekort.domain.id_documents import DocumentKind
from ekort.domain.identifiers import IdentityKind, luhn_check_digit
from ekort.domain.lifecycle import LIVE_STATES, CardState
from ekort.domain.pins import validate_pin
from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.timekeeping import STOCKHOLM, local_date, start_of_local_day
from ekort.domain.vocabulary import (
    AssuranceLevel,
    BlockReason,
    CardType,
    DeliveryPath,
    Generation,
    Role,
)
from ekort.store.models import (
    Account,
    AuditEntry,
    Block,
    Card,
    CardOffice,
    CertificateAuthority,
    Letter,
    OpeningException,
    OpeningInterval,
    Organisation,
    Person,
    Unit,
)

from . import audit, cards, deadlines
from .ca import authority, holder_certificates, status
from .people import PersonDetails, register_person
from .policy import current_calendar

SEED = 20240125
ORGANISATION_NAME = "Region Gävleborg"
ORGANISATION_NUMBER = "2321000198"  # Region Gävleborg, 232100-0198
# The region's register is loaded, and the story begins, on this morning.
HISTORY_START = datetime(2018, 9, 3, 8, 0, tzinfo=STOCKHOLM)
# Another region's person CA: the additional certificates on cards come from it (R13).
FOREIGN_ISSUER = "Region Uppsala Person ID 3 CA v1"
EARLIEST_BUILD = datetime(2019, 1, 1, tzinfo=STOCKHOLM)


class DemoError(DomainError):
    """The demo cannot be built here; the message says why."""


# --- logins -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    purpose: str  # what the login shows: a role, or "superuser"
    username: str
    roles: tuple[Role, ...]
    person: str | None  # key of the person the account belongs to
    office: str | None = None  # town of the card office, for ID administrators
    superuser: bool = False

    @property
    def password(self) -> str:
        return f"demo-{self.username}"


_H, _O, _I, _S, _U = Role.HOLDER, Role.ORDERER, Role.ID_ADMIN, Role.SUPPORT, Role.ISSUER_ADMIN

# One login per role, printed at the end of `ekort demo`.
LOGINS: tuple[Login, ...] = (
    Login("holder", "innehavare", (_H,), "innehavare"),
    Login("orderer", "chef", (_O, _H), "chef"),
    Login("id_admin", "idadmin", (_I, _H), "idadmin", office="Gävle"),
    Login("support", "support", (_S, _H), "support"),
    Login("issuer_admin", "utgivare", (_U,), None),
    Login("superuser", "admin", (), None, superuser=True),
)
# The staff who do the rest of the work: every manager orders for their own staff (E2), and
# whoever orders a card never hands it out (E3).
STAFF_LOGINS: tuple[Login, ...] = (
    Login("orderer", "direktor", (_O,), "direktor"),
    Login("orderer", "chef.sandviken", (_O, _H), "chef.sandviken"),
    Login("orderer", "chef.hudiksvall", (_O, _H), "chef.hudiksvall"),
    Login("orderer", "chef.bollnas", (_O, _H), "chef.bollnas"),
    Login("orderer", "chef.ljusdal", (_O, _H), "chef.ljusdal"),
    Login("orderer", "chef.it", (_O, _H), "chef.it"),
    Login("id_admin", "idadmin2", (_I, _H), "idadmin2", office="Gävle"),
    Login("id_admin", "idadmin.sandviken", (_I, _H), "idadmin.sandviken", office="Sandviken"),
    Login("id_admin", "idadmin.hudiksvall", (_I, _H), "idadmin.hudiksvall", office="Hudiksvall"),
    Login("id_admin", "idadmin.bollnas", (_I, _H), "idadmin.bollnas", office="Bollnäs"),
    Login("id_admin", "idadmin.ljusdal", (_I, _H), "idadmin.ljusdal", office="Ljusdal"),
)
ALL_LOGINS = LOGINS + STAFF_LOGINS


# --- the region ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Town:
    name: str
    postal_codes: tuple[str, ...]
    streets: tuple[str, ...]
    office: str
    office_street: str
    office_postal_code: str
    office_phone: str
    hours: dict[int, tuple[tuple[str, str], ...]]  # 0 = Monday


_MORNING_AND_AFTERNOON = (("08:00", "11:30"), ("12:30", "16:00"))
TOWNS: tuple[_Town, ...] = (
    _Town(
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
    _Town(
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
    _Town(
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
    _Town(
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
    _Town(
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
_TOWN = {town.name: town for town in TOWNS}

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


@dataclass(frozen=True)
class _PersonSpec:
    key: str
    given: str
    family: str
    sex: str  # "F" or "M", matched by the identity number's ninth digit
    unit: str
    town: str
    manager: str | None
    story: str | None  # a method of _Plan: story_<name>
    samordning: bool = False
    protected: bool = False


def _p(
    key: str,
    name: str,
    sex: str,
    unit: str,
    town: str,
    manager: str | None,
    story: str | None,
    **flags: bool,
) -> _PersonSpec:
    given, family = name.split(" ", 1)
    return _PersonSpec(key, given, family, sex, unit, town, manager, story, **flags)


# Managers first: a person is registered with their manager (E2).
PERSONS: tuple[_PersonSpec, ...] = (
    _p("direktor", "Helena Forsberg", "F", "ledning", "Gävle", None, None),
    _p("chef", "Karin Lindqvist", "F", "akut", "Gävle", "direktor", "sis_2022_damaged"),
    _p(
        "chef.sandviken", "Per Hedlund", "M", "hcsandviken", "Sandviken", "direktor", "company_card"
    ),
    _p(
        "chef.hudiksvall",
        "Annika Berglund",
        "F",
        "medhudik",
        "Hudiksvall",
        "direktor",
        "sis_card_renewed",
    ),
    _p("chef.bollnas", "Magnus Ek", "M", "ortobollnas", "Bollnäs", "direktor", "sis_2022"),
    _p("chef.ljusdal", "Ulrika Norberg", "F", "ambljusdal", "Ljusdal", "direktor", "company_card"),
    _p("chef.it", "Fredrik Sundström", "M", "it", "Gävle", "direktor", "sis_card_expired_replaced"),
    # Regionservice IT: the ID administrators of the five card offices, and support.
    _p("idadmin", "Anna Hedin", "F", "it", "Gävle", "chef.it", "company_card"),
    _p("idadmin2", "Mats Öberg", "M", "it", "Gävle", "chef.it", "sis_2022"),
    _p("idadmin.sandviken", "Sara Wallin", "F", "it", "Sandviken", "chef.it", "company_card"),
    _p(
        "idadmin.hudiksvall",
        "Jonas Hägglund",
        "M",
        "it",
        "Hudiksvall",
        "chef.it",
        "sis_card_renewed",
    ),
    _p("idadmin.bollnas", "Cecilia Strand", "F", "it", "Bollnäs", "chef.it", "company_card"),
    _p("idadmin.ljusdal", "Björn Ersson", "M", "it", "Ljusdal", "chef.it", "sis_2022"),
    _p("support", "Linnea Holmberg", "F", "it", "Gävle", "chef.it", "new_card"),
    # Akutmottagningen, Gävle sjukhus
    _p("innehavare", "Johan Sjöberg", "M", "akut", "Gävle", "chef", "lost_in_reserve_weeks"),
    _p("emma", "Emma Nilsson", "F", "akut", "Gävle", "chef", "not_collected"),
    _p("ahmed", "Ahmed Hussein", "M", "akut", "Sandviken", "chef", "sis_card_expired_replaced"),
    _p("malin", "Malin Engström", "F", "akut", "Gävle", "chef", "stolen"),
    _p("oskar", "Oskar Lundgren", "M", "akut", "Gävle", "chef", "current_ordered"),
    _p("frida", "Frida Persson", "F", "akut", "Gävle", "chef", "current_photographed"),
    _p("nils", "Nils Olsson", "M", "akut", "Gävle", "chef", "sis_card_expires"),
    _p("ida", "Ida Karlsson", "F", "akut", "Gävle", "chef", "blocked_during_stop"),
    # Hälsocentralen Sandviken
    _p(
        "lars",
        "Lars Andersson",
        "M",
        "hcsandviken",
        "Sandviken",
        "chef.sandviken",
        "sis_2022_pin_letter",
    ),
    _p(
        "maria",
        "Maria Jonsson",
        "F",
        "hcsandviken",
        "Sandviken",
        "chef.sandviken",
        "reserve_in_january",
    ),
    _p(
        "katarzyna",
        "Katarzyna Nowak",
        "F",
        "hcsandviken",
        "Sandviken",
        "chef.sandviken",
        "new_card",
        samordning=True,
    ),
    _p(
        "viktor",
        "Viktor Pettersson",
        "M",
        "hcsandviken",
        "Gävle",
        "chef.sandviken",
        "current_produced",
    ),
    _p(
        "kristina",
        "Kristina Bengtsson",
        "F",
        "hcsandviken",
        "Sandviken",
        "chef.sandviken",
        "company_card",
    ),
    _p(
        "henrik",
        "Henrik Gustafsson",
        "M",
        "hcsandviken",
        "Sandviken",
        "chef.sandviken",
        "employment_ended",
    ),
    _p(
        "hanna", "Hanna Larsson", "F", "hcsandviken", "Sandviken", "chef.sandviken", "not_activated"
    ),
    # Medicinkliniken, Hudiksvalls sjukhus
    _p(
        "mikko",
        "Mikko Virtanen",
        "M",
        "medhudik",
        "Hudiksvall",
        "chef.hudiksvall",
        "company_card",
        samordning=True,
    ),
    _p(
        "elin",
        "Elin Sandberg",
        "F",
        "medhudik",
        "Hudiksvall",
        "chef.hudiksvall",
        "photographed_before_the_pause",
    ),
    _p(
        "anders",
        "Anders Björk",
        "M",
        "medhudik",
        "Hudiksvall",
        "chef.hudiksvall",
        "sis_card_renewed",
    ),
    _p("johanna", "Johanna Falk", "F", "medhudik", "Hudiksvall", "chef.hudiksvall", "current_sent"),
    _p(
        "gustav",
        "Gustav Lundin",
        "M",
        "medhudik",
        "Hudiksvall",
        "chef.hudiksvall",
        "cancelled_then_issued",
    ),
    _p(
        "sofia",
        "Sofia Åkesson",
        "F",
        "medhudik",
        "Hudiksvall",
        "chef.hudiksvall",
        "expired_in_2023",
    ),
    _p(
        "karl",
        "Karl Hansson",
        "M",
        "medhudik",
        "Hudiksvall",
        "chef.hudiksvall",
        "new_card_pin_unlocked",
    ),
    # Ortopedkliniken, Bollnäs sjukhus
    _p(
        "eva",
        "Eva Bergström",
        "F",
        "ortobollnas",
        "Bollnäs",
        "chef.bollnas",
        "company_card",
        protected=True,
    ),
    _p(
        "mikael",
        "Mikael Eriksson",
        "M",
        "ortobollnas",
        "Bollnäs",
        "chef.bollnas",
        "reserve_not_collected",
    ),
    _p(
        "agnes", "Agnes Holm", "F", "ortobollnas", "Bollnäs", "chef.bollnas", "current_reserve_sent"
    ),
    _p("stefan", "Stefan Nordin", "M", "ortobollnas", "Bollnäs", "chef.bollnas", "damaged"),
    _p(
        "camilla",
        "Camilla Svensson",
        "F",
        "ortobollnas",
        "Bollnäs",
        "chef.bollnas",
        "reserve_order_cancelled",
    ),
    _p("emil", "Emil Jansson", "M", "ortobollnas", "Bollnäs", "chef.bollnas", "current_activated"),
    _p(
        "matilda",
        "Matilda Olofsson",
        "F",
        "ortobollnas",
        "Bollnäs",
        "chef.bollnas",
        "lost_in_reserve_weeks",
    ),
    # Ambulanssjukvården Ljusdal
    _p("olof", "Olof Wikström", "M", "ambljusdal", "Ljusdal", "chef.ljusdal", "sis_card_renewed"),
    _p("jenny", "Jenny Söderberg", "F", "ambljusdal", "Ljusdal", "chef.ljusdal", "not_activated"),
    _p(
        "axel",
        "Axel Nyström",
        "M",
        "ambljusdal",
        "Ljusdal",
        "chef.ljusdal",
        "company_card_pin_letter",
    ),
    _p("asa", "Åsa Lindgren", "F", "ambljusdal", "Ljusdal", "chef.ljusdal", "current_cancelled"),
    _p(
        "hakan",
        "Håkan Hedberg",
        "M",
        "ambljusdal",
        "Ljusdal",
        "chef.ljusdal",
        "sis_card_expired_replaced",
    ),
    _p(
        "ebba",
        "Ebba Mattsson",
        "F",
        "ambljusdal",
        "Ljusdal",
        "chef.ljusdal",
        "reserve_in_new_process",
    ),
    _p("jorgen", "Jörgen Dahl", "M", "ambljusdal", "Bollnäs", "chef.ljusdal", "sis_2022"),
)


# --- Swedish public holidays --------------------------------------------------------------


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_weekday_from(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def swedish_holidays(year: int) -> dict[date, str]:
    """Days the card offices are closed: public holidays and the eves kept as holidays
    (julafton, nyårsafton, midsommarafton). Sunday and Saturday holidays are left out."""
    easter = _easter(year)
    midsummer_eve = _first_weekday_from(date(year, 6, 19), 4)
    return {
        date(year, 1, 1): "Nyårsdagen",
        date(year, 1, 6): "Trettondedag jul",
        easter - timedelta(days=2): "Långfredagen",
        easter + timedelta(days=1): "Annandag påsk",
        date(year, 5, 1): "Första maj",
        easter + timedelta(days=39): "Kristi himmelsfärdsdag",
        date(year, 6, 6): "Sveriges nationaldag",
        midsummer_eve: "Midsommarafton",
        date(year, 12, 24): "Julafton",
        date(year, 12, 25): "Juldagen",
        date(year, 12, 26): "Annandag jul",
        date(year, 12, 31): "Nyårsafton",
    }


def _short_days(year: int) -> dict[date, str]:
    """Eves when the offices close at noon."""
    return {
        date(year, 1, 5): "Trettondagsafton",
        _easter(year) - timedelta(days=3): "Skärtorsdagen",
        date(year, 4, 30): "Valborgsmässoafton",
    }


def _clock(text: str) -> clock_time:
    hour, minute = text.split(":")
    return clock_time(int(hour), int(minute))


def _at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, _clock(hhmm), tzinfo=STOCKHOLM)


# --- building -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """What the database holds after `ekort demo`."""

    organisation: str
    units: int
    offices: tuple[str, ...]  # towns
    opening_intervals: int
    opening_exceptions: int
    persons: int
    managers: int
    samordningsnummer: int
    protected: int
    cards: dict[tuple[str, str], int]  # (generation, state) -> count; generation "" if none yet
    letters: int
    blocks: dict[str, int]
    audit_entries: int
    audit_findings: int


@dataclass(frozen=True)
class DemoOutcome:
    created: bool
    built_at: datetime | None
    summary: Summary
    seconds: float
    logins: tuple[Login, ...] = LOGINS
    staff_logins: tuple[Login, ...] = STAFF_LOGINS
    who: dict[str, str] = field(default_factory=dict)  # username -> whose account it is


def demo_present() -> bool:
    return Organisation.objects.filter(organisation_number=ORGANISATION_NUMBER).exists()


def build(at: datetime) -> DemoOutcome:
    """Build the demo as of `at`, or leave an existing demo exactly as it is."""
    started = time.monotonic()
    if settings.PRODUCTION:
        raise DemoError(
            "The demo does not run in production (EKORT_ENV=production): it creates made-up "
            "persons and logins with published passwords."
        )
    if demo_present():
        return DemoOutcome(False, None, summarise(), time.monotonic() - started, who=_who())
    if at < EARLIEST_BUILD:
        raise DemoError(
            f"The demo's history starts in {HISTORY_START.year}; give --at "
            f"{EARLIEST_BUILD.date().isoformat()} or later."
        )
    taken = sorted(
        User.objects.filter(username__in=[login.username for login in ALL_LOGINS]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise DemoError(
            f"The database already has the user(s) {', '.join(taken)}; ekort demo fills an "
            "empty database only."
        )
    if Person.objects.exists() or Card.objects.exists():
        raise DemoError(
            "The database already holds persons or cards that are not the demo's; ekort demo "
            "fills an empty database only."
        )
    passwords = _hash_passwords()  # slow on purpose (PBKDF2): done in parallel, outside the lock
    with transaction.atomic():
        _Plan(at, passwords).run()
    return DemoOutcome(True, at, summarise(), time.monotonic() - started, who=_who())


def _who() -> dict[str, str]:
    """Whose each demo account is: the person and their unit, or the card office."""
    who = {"admin": "Django admin (/admin/), read-only", "utgivare": "produces and sends cards"}
    accounts = Account.objects.select_related("user", "person__unit", "office").filter(
        user__username__in=[login.username for login in ALL_LOGINS]
    )
    for account in accounts:
        person, office = account.person, account.office
        if person is not None:
            where = office.name if office else (person.unit.name if person.unit else "")
            who[account.user.username] = f"{person.full_name}, {where}"
    return who


def _hash_passwords() -> dict[str, str]:
    # PBKDF2 releases the GIL, so threads hash in parallel.
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
        hashes = list(pool.map(lambda login: make_password(login.password), ALL_LOGINS))
    return {login.username: hashed for login, hashed in zip(ALL_LOGINS, hashes, strict=True)}


def summarise() -> Summary:
    org = Organisation.objects.filter(organisation_number=ORGANISATION_NUMBER).first()
    by_state = Card.objects.values_list("generation", "state").annotate(n=Count("pk")).order_by()
    blocks = Block.objects.values_list("reason").annotate(n=Count("pk")).order_by()
    return Summary(
        organisation=org.name if org else "",
        units=Unit.objects.count(),
        offices=tuple(CardOffice.objects.order_by("town").values_list("town", flat=True)),
        opening_intervals=OpeningInterval.objects.count(),
        opening_exceptions=OpeningException.objects.count(),
        persons=Person.objects.count(),
        managers=Person.objects.filter(reports__isnull=False).distinct().count(),
        samordningsnummer=Person.objects.filter(
            identity_kind=IdentityKind.SAMORDNINGSNUMMER
        ).count(),
        protected=Person.objects.filter(protected_identity=True).count(),
        cards={(generation, state): n for generation, state, n in by_state},
        letters=Letter.objects.count(),
        blocks={reason: n for reason, n in blocks},
        audit_entries=AuditEntry.objects.count(),
        audit_findings=len(audit.verify_trail()),
    )


# --- the plan -----------------------------------------------------------------------------


@dataclass
class _CardRef:
    """A card in the plan; its id is known once its order has run."""

    holder: str
    card_type: CardType
    id: int | None = None
    pin: str = ""  # the PIN the holder chose last (the demo plays the holder at the PIN pad)

    @property
    def pk(self) -> int:
        assert self.id is not None, "a card step ran before the card was ordered"
        return self.id


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    label: str = field(compare=False)
    run: Callable[[], object] = field(compare=False)


_OFFICE_TIMES = ("09:05", "09:20", "09:35", "09:50", "10:05", "10:20", "10:35")
_BACK_OFFICE_TIMES = ("08:20", "10:40", "13:15", "14:05", "14:50")
_ORDER_TIMES = ("08:35", "09:10", "11:25", "13:40", "15:05")
_ANY_TIMES = ("07:55", "12:10", "16:30", "19:45")
_DOCUMENT_KINDS = (
    DocumentKind.PASSPORT,
    DocumentKind.NATIONAL_ID_CARD,
    DocumentKind.DRIVING_LICENCE,
)


class _Plan:
    def __init__(self, at: datetime, passwords: dict[str, str]) -> None:
        self.build_at = at
        self.passwords = passwords
        self.rng = random.Random(SEED)  # noqa: S311 (made-up demo data, not secrets)
        self.calendar = current_calendar()
        self.events: list[_Event] = []
        self.closed: dict[date, str] = {}
        for year in range(HISTORY_START.year, local_date(at).year + 2):
            self.closed.update(swedish_holidays(year))
        self.persons: dict[str, Person] = {}
        self.specs = {spec.key: spec for spec in PERSONS}
        self.users: dict[str, User] = {}
        self.user_of_person: dict[str, User] = {}
        self.office_admin: dict[str, str] = {
            login.office: login.username for login in ALL_LOGINS if login.office
        }
        self.office_admin["Gävle"] = "idadmin"
        self.last_at = HISTORY_START

    # --- running ---

    def run(self) -> None:
        organisation = Organisation.objects.create(
            name=ORGANISATION_NAME, organisation_number=ORGANISATION_NUMBER
        )
        self._certificate_authorities()
        units = self._units(organisation)
        offices = self._offices()
        self._users()
        self._register_persons(units)
        self._accounts(offices)
        for spec in PERSONS:
            if spec.story:
                # Each person's story draws from its own random stream, so that a story left
                # out (a current card the calendar does not allow yet) changes no other.
                self.rng = random.Random(f"{SEED}:{spec.key}")  # noqa: S311
                getattr(self, f"story_{spec.story}")(spec.key)
        for event in sorted(self.events):
            if event.at > self.build_at:
                break
            self._nightly_jobs(until=event.at)
            try:
                event.run()
            except DomainError as error:
                raise DemoError(
                    f"The demo step '{event.label}' at {event.at.isoformat()} was refused: {error}"
                ) from error
            self.last_at = event.at
        self._nightly_jobs(until=self.build_at)
        deadlines.run_all(self.build_at)
        # Responses signed at historical instants have long expired: sign them as of now,
        # and publish the CRLs, as the scheduler would.
        transaction.on_commit(lambda: status.publish_due(self.build_at))

    def _certificate_authorities(self) -> None:
        """ekort's CA hierarchy (unless `ekort ca init` made it already) and another region's
        issuer for the additional certificates on cards (R13), both as of the history's start."""
        if not CertificateAuthority.objects.filter(role=CertificateAuthority.Role.ROOT).exists():
            authority.init_hierarchy(now=HISTORY_START, actor="ekort demo")
        if not CertificateAuthority.objects.filter(name=FOREIGN_ISSUER).exists():
            authority.init_foreign_issuer(
                name=FOREIGN_ISSUER, organisation="Region Uppsala", now=HISTORY_START
            )

    def _nightly_jobs(self, until: datetime) -> None:
        """Run the deadline jobs on every night, up to `until`, after something fell due."""
        while True:
            due = Card.objects.aggregate(
                pickup=Min("pickup_deadline", filter=Q(state=CardState.AWAITING_PICKUP)),
                activation=Min("activation_deadline", filter=Q(state=CardState.SENT_INACTIVE)),
                validity=Min("valid_until", filter=Q(state__in=LIVE_STATES)),
            )
            days = [day for day in due.values() if day is not None]
            if not days:
                return
            night = start_of_local_day(min(days) + timedelta(days=1)) + timedelta(minutes=15)
            if night > until:
                return
            night = max(night, self.last_at)
            deadlines.run_all(night)
            self.last_at = night

    # --- the region, its offices and its people ---

    def _units(self, organisation: Organisation) -> dict[str, Unit]:
        return {
            key: Unit.objects.create(
                organisation=organisation,
                name=name,
                hsa_id=f"SE{ORGANISATION_NUMBER}-E{1000000100 + number:011d}",
            )
            for number, (key, name, _town) in enumerate(UNITS, start=1)
        }

    def _offices(self) -> dict[str, CardOffice]:
        offices: dict[str, CardOffice] = {}
        build_day = local_date(self.build_at)
        first = min(date(2023, 12, 1), date(build_day.year - 1, 12, 1))
        last = max(date(2024, 1, 6), date(build_day.year + 1, 1, 6))
        closed: dict[date, str] = {}
        short: dict[date, str] = {}
        for year in range(first.year, last.year + 1):
            closed.update(swedish_holidays(year))
            short.update(_short_days(year))
        intervals: list[OpeningInterval] = []
        exceptions: list[OpeningException] = []
        for town in TOWNS:
            office = CardOffice.objects.create(
                name=town.office,
                town=town.name,
                street_address=town.office_street,
                postal_code=town.office_postal_code,
                phone=town.office_phone,
            )
            offices[town.name] = office
            for weekday, spans in town.hours.items():
                intervals += [
                    OpeningInterval(
                        office=office, weekday=weekday, opens=_clock(opens), closes=_clock(closes)
                    )
                    for opens, closes in spans
                ]
            for day, note in sorted(closed.items()):
                if first <= day <= last:
                    exceptions.append(
                        OpeningException(office=office, day=day, note=f"{note}: stängt")
                    )
            for day, note in sorted(short.items()):
                spans = town.hours.get(day.weekday(), ())
                if first <= day <= last and spans and day not in closed:
                    closes = min(_clock(spans[0][1]), clock_time(12))  # the morning only
                    exceptions.append(
                        OpeningException(
                            office=office,
                            day=day,
                            opens=_clock(spans[0][0]),
                            closes=closes,
                            note=f"{note}: stänger {closes:%H.%M}",
                        )
                    )
        OpeningInterval.objects.bulk_create(intervals)
        OpeningException.objects.bulk_create(exceptions)
        return offices

    def _users(self) -> None:
        groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
        for login in ALL_LOGINS:
            user = User.objects.create(
                username=login.username,
                password=self.passwords[login.username],
                is_staff=login.superuser,
                is_superuser=login.superuser,
            )
            user.groups.set([groups[role] for role in login.roles])
            self.users[login.username] = user

    def _identity_number(self, spec: _PersonSpec, taken: set[str]) -> str:
        rng = self.rng
        while True:
            birth = date(rng.randint(1962, 1998), rng.randint(1, 12), rng.randint(1, 28))
            # The ninth digit (the last before the check digit) is odd for men, even for women.
            sex_digit = rng.choice((1, 3, 5, 7, 9) if spec.sex == "M" else (0, 2, 4, 6, 8))
            serial = f"{rng.randint(1, 99):02d}{sex_digit}"
            day = birth.day + (60 if spec.samordning else 0)
            date_part = f"{birth.year:04d}{birth.month:02d}{day:02d}"
            digits = f"{date_part}{serial}{luhn_check_digit(date_part[2:] + serial)}"
            if digits not in taken:
                taken.add(digits)
                return digits

    def _hsa_id(self, taken: set[str]) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        while True:
            code = "".join(self.rng.choice(alphabet) for _ in range(4))
            if code not in taken:
                taken.add(code)
                return f"SE{ORGANISATION_NUMBER}-{code}"

    def _register_persons(self, units: dict[str, Unit]) -> None:
        registrar = self.users["utgivare"]
        numbers: set[str] = set()
        codes: set[str] = set()
        for spec in PERSONS:
            town = _TOWN[spec.town]
            street = f"{self.rng.choice(town.streets)} {self.rng.randint(1, 48)}"
            if self.rng.random() < 0.3:
                street += f" lgh {self.rng.randint(10, 16)}0{self.rng.randint(1, 4)}"
            manager = self.persons[spec.manager] if spec.manager else None
            self.persons[spec.key] = register_person(
                actor=registrar,
                details=PersonDetails(
                    identity_number=self._identity_number(spec, numbers),
                    given_name=spec.given,
                    family_name=spec.family,
                    street_address=street,
                    postal_code=self.rng.choice(town.postal_codes),
                    postal_town=town.name,
                    hsa_id=self._hsa_id(codes),
                    unit_id=units[spec.unit].pk,
                    manager_id=manager.pk if manager else None,
                    protected_identity=spec.protected,
                ),
                now=HISTORY_START,
            )

    def _accounts(self, offices: dict[str, CardOffice]) -> None:
        for login in ALL_LOGINS:
            Account.objects.create(
                user=self.users[login.username],
                person=self.persons[login.person] if login.person else None,
                office=offices[login.office] if login.office else None,
            )
            if login.person:
                self.user_of_person[login.person] = self.users[login.username]

    # --- time ---

    def workday(self, day: date) -> date:
        while day.weekday() >= 5 or day in self.closed:
            day += timedelta(days=1)
        return day

    def on(self, year: int, month: int, day: int, times: Iterable[str] = _OFFICE_TIMES) -> datetime:
        return _at(self.workday(date(year, month, day)), self.rng.choice(tuple(times)))

    def between(self, first: date, last: date, times: Iterable[str] = _ORDER_TIMES) -> datetime:
        day = first + timedelta(days=self.rng.randint(0, (last - first).days))
        return _at(self.workday(day), self.rng.choice(tuple(times)))

    def after(
        self, previous: datetime, low: int, high: int, times: Iterable[str] = _OFFICE_TIMES
    ) -> datetime:
        """A working day `low`..`high` days after `previous`, at one of `times`."""
        day = self.workday(local_date(previous) + timedelta(days=self.rng.randint(low, high)))
        instant = _at(day, self.rng.choice(tuple(times)))
        if instant <= previous:
            instant = _at(self.workday(day + timedelta(days=1)), self.rng.choice(tuple(times)))
        return instant

    def workdays_before_build(self, count: int, hhmm: str) -> datetime:
        day = local_date(self.build_at)
        while count:
            day -= timedelta(days=1)
            if day.weekday() < 5 and day not in self.closed:
                count -= 1
        return _at(day, hhmm)

    # --- who does what ---

    def _event(self, at: datetime, label: str, run: Callable[[], object]) -> None:
        self.events.append(_Event(at, len(self.events), label, run))

    def manager_of(self, key: str) -> User:
        manager = self.specs[key].manager
        assert manager is not None, f"{key} has no manager to order cards"
        return self.user_of_person[manager]

    def admin_for(self, key: str) -> User:
        """The ID administrator at the holder's card office; never the holder."""
        username = self.office_admin[self.specs[key].town]
        if self.users[username] is self.user_of_person.get(key):
            username = "idadmin2" if username != "idadmin2" else "idadmin"
        return self.users[username]

    def second_admin_for(self, key: str, first: User) -> User:
        """The second ID administrator of a four-eyes hand-out or activation (E11): one of
        Gävle's two, never the first administrator, nor the holder."""
        for username in ("idadmin2", "idadmin", "idadmin.sandviken"):
            user = self.users[username]
            if user is not first and user is not self.user_of_person.get(key):
                return user
        raise AssertionError("the demo has too few ID administrators")

    def document(self, at: datetime, holder: str) -> cards.DocumentShown:
        kind = (
            DocumentKind.DRIVING_LICENCE
            if self.specs[holder].samordning
            else self.rng.choice(_DOCUMENT_KINDS)
        )
        number = "".join(self.rng.choice("0123456789") for _ in range(8))
        expires = local_date(at) + timedelta(days=self.rng.randint(200, 3000))
        return cards.DocumentShown(kind=kind.value, number=number, expires_on=expires)

    def pin(self) -> str:
        while True:
            candidate = f"{self.rng.randint(0, 999999):06d}"
            try:
                return validate_pin(candidate)
            except DomainError:
                continue

    # --- card steps, each an event at its instant ---

    def order(
        self, holder: str, at: datetime, card_type: CardType = CardType.PHOTO, note: str = ""
    ) -> _CardRef:
        ref = _CardRef(holder, card_type)
        actor, person = self.manager_of(holder), self.persons[holder]

        def run() -> None:
            ref.id = cards.order_card(
                actor=actor, person_id=person.pk, card_type=card_type, now=at, note=note
            ).pk

        self._event(at, f"order a {card_type} card for {holder}", run)
        return ref

    def replace(self, old: _CardRef, at: datetime, reason: BlockReason, note: str = "") -> _CardRef:
        ref = _CardRef(old.holder, old.card_type)
        actor = self.manager_of(old.holder)

        def run() -> None:
            ref.id = cards.replace_card(
                actor=actor, card_id=old.pk, reason=reason, now=at, note=note
            ).pk

        self._event(at, f"replace {old.holder}'s {old.card_type} card", run)
        return ref

    def photograph(self, card: _CardRef, at: datetime) -> None:
        actor = self.admin_for(card.holder)
        photo = b"\xff\xd8\xff\xe0" + f"demo photo of {card.holder} {at.isoformat()}".encode()
        self._event(
            at,
            f"photograph {card.holder}",
            lambda: cards.photograph(actor=actor, card_id=card.pk, photo=photo, now=at),
        )

    def produce(self, card: _CardRef, at: datetime) -> None:
        actor = self.users["utgivare"]
        self._event(
            at,
            f"produce {card.holder}'s card",
            lambda: cards.produce(actor=actor, card_id=card.pk, now=at),
        )

    def send(self, card: _CardRef, at: datetime) -> None:
        actor = self.users["utgivare"]
        self._event(
            at,
            f"send {card.holder}'s card",
            lambda: cards.send(actor=actor, card_id=card.pk, now=at),
        )

    def hand_out(self, card: _CardRef, at: datetime) -> None:
        actor, document = self.admin_for(card.holder), self.document(at, card.holder)
        second = self.second_admin_for(card.holder, actor)

        def run() -> None:
            handed = cards.hand_out(actor=actor, card_id=card.pk, document=document, now=at)
            if handed.state == CardState.AWAITING_PICKUP:
                # A reserve card at assurance level 3: a second administrator approves (E11).
                cards.approve_hand_out(actor=second, card_id=card.pk, now=at)

        self._event(at, f"hand out {card.holder}'s card", run)

    def activate(self, card: _CardRef, at: datetime) -> None:
        actor, document, pin = (
            self.admin_for(card.holder),
            self.document(at, card.holder),
            self.pin(),
        )
        second = self.second_admin_for(card.holder, actor)
        card.pin = pin

        def run() -> None:
            row = Card.objects.only("card_type", "assurance_level").get(pk=card.pk)
            if needs_second_approval(CardType(row.card_type), AssuranceLevel(row.assurance_level)):
                # A reserve card at assurance level 3: the first administrator registers the
                # document, the second approves while the holder types the PIN (E11).
                cards.activate(actor=actor, card_id=card.pk, document=document, now=at)
                cards.approve_activation(actor=second, card_id=card.pk, pin=pin, now=at)
            else:
                cards.activate(actor=actor, card_id=card.pk, document=document, pin=pin, now=at)

        self._event(at, f"activate {card.holder}'s card", run)

    def unlock(self, card: _CardRef, at: datetime) -> None:
        actor, pin = self.admin_for(card.holder), self.pin()
        card.pin = pin
        self._event(
            at,
            f"unlock {card.holder}'s PIN",
            lambda: cards.unlock_pin(actor=actor, card_id=card.pk, new_pin=pin, now=at),
        )

    def self_service_certificates(self, card: _CardRef, at: datetime) -> None:
        """At home, in self-service: a signature certificate with a code of the holder's own
        (R12), and an additional certificate from another region (R13), later swapped."""
        holder = self.user_of_person[card.holder]
        code = self.pin()
        pin = card.pin  # as chosen at activation; a later unlock in the plan must not leak in

        def download() -> None:
            holder_certificates.download_signature_certificate(
                actor=holder, card_id=card.pk, pin=pin, signature_code=code, now=at
            )
            holder_certificates.add_additional_certificate(
                actor=holder, card_id=card.pk, pin=pin, issuer_name=FOREIGN_ISSUER, now=at
            )

        self._event(at, f"{card.holder} downloads self-service certificates", download)
        later = at + timedelta(days=60)
        self._event(
            later,
            f"{card.holder} swaps the additional certificate",
            lambda: holder_certificates.add_additional_certificate(
                actor=holder,
                card_id=card.pk,
                pin=pin,
                issuer_name=FOREIGN_ISSUER,
                now=later,
                swap=True,
            ),
        )

    def pin_letter(self, card: _CardRef, at: datetime) -> None:
        # The holder orders it in Mina sidor if they have an account; else support does.
        actor = self.user_of_person.get(card.holder, self.users["support"])
        self._event(
            at,
            f"order a PIN/PUK letter for {card.holder}",
            lambda: cards.order_pin_letter(actor=actor, card_id=card.pk, now=at),
        )

    def block(
        self, card: _CardRef, at: datetime, reason: BlockReason, note: str, by: str = "support"
    ) -> None:
        holder = self.persons[card.holder]
        if by == "holder" and card.holder in self.user_of_person:
            actor, requested_by = self.user_of_person[card.holder], f"{holder.full_name} (själv)"
        elif by == "manager":
            actor = self.manager_of(card.holder)
            requested_by = self.persons[self.specs[card.holder].manager or ""].full_name
        elif by == "id_admin":
            actor, requested_by = self.admin_for(card.holder), holder.full_name
        else:
            actor, requested_by = self.users["support"], f"{holder.full_name} (telefon)"
        self._event(
            at,
            f"block {card.holder}'s card ({reason})",
            lambda: cards.block(
                actor=actor,
                card_id=card.pk,
                reason=reason,
                requested_by=requested_by,
                now=at,
                note=note,
            ),
        )

    def cancel(self, card: _CardRef, at: datetime, reason: str) -> None:
        actor = self.manager_of(card.holder)
        self._event(
            at,
            f"cancel {card.holder}'s order",
            lambda: cards.cancel_order(actor=actor, card_id=card.pk, now=at, reason=reason),
        )

    # --- paths: the steps after an order ---

    def legacy_path(
        self,
        card: _CardRef,
        ordered_at: datetime,
        *,
        produce_on: datetime | None = None,
        collect: bool = True,
    ) -> datetime:
        """Photographed, produced, code envelope sent, collected at a hand-out point (R3).
        Returns the instant of the last step."""
        at = ordered_at
        if card.card_type is CardType.PHOTO:
            at = self.after(at, 2, 6)
            self.photograph(card, at)
        at = produce_on or self.after(at, 1, 4, _BACK_OFFICE_TIMES)
        self.produce(card, at)
        at += timedelta(minutes=40)
        self.send(card, at)
        if collect:
            at = self.after(at, 3, 9)
            self.hand_out(card, at)
        return at

    def new_path(
        self,
        card: _CardRef,
        ordered_at: datetime,
        *,
        activate: bool = True,
        photographed_at: datetime | None = None,
    ) -> datetime:
        """Photographed, produced, sent home inactive (R6), activated at a card office (R7)."""
        at = ordered_at
        if card.card_type is CardType.PHOTO:
            at = photographed_at or self.after(at, 2, 8)
            self.photograph(card, at)
        at = self.after(at, 1, 3, _BACK_OFFICE_TIMES)
        self.produce(card, at)
        at += timedelta(minutes=40)
        self.send(card, at)
        if activate:
            at = self.after(at, 4, 18)
            self.activate(card, at)
        return at

    def valid_until(self, card: _CardRef, produced_at: datetime) -> date:
        return self.calendar.valid_until(card.card_type, produced_at)

    def legacy_card(
        self, holder: str, first: date, last: date, note: str = ""
    ) -> tuple[_CardRef, datetime, datetime]:
        """A legacy photo card ordered between `first` and `last` and handed out; returns the
        card, its production instant and the hand-out instant."""
        ordered_at = self.between(first, last)
        card = self.order(holder, ordered_at, note=note)
        photographed = self.after(ordered_at, 2, 6)
        self.photograph(card, photographed)
        produced = self.after(photographed, 1, 4, _BACK_OFFICE_TIMES)
        handed_out = self.legacy_path_from_production(card, produced)
        return card, produced, handed_out

    def legacy_path_from_production(self, card: _CardRef, produced: datetime) -> datetime:
        self.produce(card, produced)
        self.send(card, produced + timedelta(minutes=40))
        at = self.after(produced, 3, 9)
        self.hand_out(card, at)
        return at

    # --- the stories, one per person (PERSONS names them) ---

    def story_company_card(self, key: str) -> None:
        """A company card without SIS marking (R17), still in use."""
        self.legacy_card(key, date(2022, 10, 10), date(2023, 11, 10))

    def story_company_card_pin_letter(self, key: str) -> None:
        card, _, _ = self.legacy_card(key, date(2022, 10, 10), date(2023, 6, 30))
        # R15: an older card's PIN needs the PUK, from a PIN/PUK letter.
        self.pin_letter(card, self.between(date(2024, 9, 2), date(2025, 2, 28), _ANY_TIMES))

    def story_sis_2022(self, key: str) -> None:
        """SIS-marked, issued before 2022-10-01 (R17): a valid identity document until 2027."""
        self.legacy_card(key, date(2022, 2, 1), date(2022, 8, 31))

    def story_sis_2022_pin_letter(self, key: str) -> None:
        card, _, _ = self.legacy_card(key, date(2022, 2, 1), date(2022, 8, 31))
        self.pin_letter(card, self.between(date(2024, 4, 2), date(2024, 6, 28), _ANY_TIMES))

    def story_sis_2022_damaged(self, key: str) -> None:
        card, _, _ = self.legacy_card(key, date(2022, 3, 1), date(2022, 6, 30))
        at = self.between(date(2024, 10, 1), date(2024, 10, 31))
        new = self.replace(card, at, BlockReason.DAMAGED, "Chipet går inte att läsa.")
        self.new_path(new, at)

    def story_sis_card_renewed(self, key: str) -> None:
        """SIS-marked card from 2019-2021, replaced by a new-generation card before it ran out."""
        card, produced, _ = self.legacy_card(key, date(2019, 6, 3), date(2021, 9, 30))
        expires = self.valid_until(card, produced)
        at = self.between(expires - timedelta(days=50), expires - timedelta(days=20))
        new = self.replace(
            card, at, BlockReason.REPLACED, f"Förnyelse: kortet gäller till {expires.isoformat()}."
        )
        self.new_path(new, at)

    def story_sis_card_expired_replaced(self, key: str) -> None:
        """SIS-marked card that ran out (expired by the nightly job), replaced weeks later."""
        card, produced, _ = self.legacy_card(key, date(2019, 3, 1), date(2020, 10, 30))
        expires = self.valid_until(card, produced)
        at = self.between(expires + timedelta(days=7), expires + timedelta(days=40))
        new = self.replace(card, at, BlockReason.REPLACED, "Ersätter utgånget kort.")
        self.new_path(new, at)

    def story_sis_card_expires(self, key: str) -> None:
        """SIS-marked card from early 2021 that runs out in 2026; no new card ordered."""
        self.legacy_card(key, date(2021, 1, 11), date(2021, 3, 31))

    def story_expired_in_2023(self, key: str) -> None:
        """Card from 2018 that ran out in autumn 2023; its replacement is a company card."""
        card, produced, _ = self.legacy_card(key, date(2018, 10, 1), date(2018, 10, 12))
        expires = self.valid_until(card, produced)
        at = self.between(expires + timedelta(days=3), expires + timedelta(days=10))
        new = self.replace(card, at, BlockReason.REPLACED, "Ersätter utgånget kort.")
        self.legacy_path(new, at)

    def story_employment_ended(self, key: str) -> None:
        card, _, _ = self.legacy_card(key, date(2023, 1, 9), date(2023, 6, 16))
        at = self.between(date(2025, 3, 3), date(2025, 3, 28), _ANY_TIMES)
        self.block(
            card,
            at,
            BlockReason.EMPLOYMENT_ENDED,
            "Anställningen avslutas 2025-03-31.",
            by="manager",
        )

    def story_damaged(self, key: str) -> None:
        card, _, _ = self.legacy_card(key, date(2022, 11, 1), date(2022, 12, 16))
        at = self.between(date(2025, 1, 13), date(2025, 1, 31))
        new = self.replace(card, at, BlockReason.DAMAGED, "Kortet har gått sönder.")
        self.new_path(new, at)

    def story_cancelled_then_issued(self, key: str) -> None:
        at = self.on(2023, 4, 11, _ORDER_TIMES)
        wrong = self.order(key, at, note="Nyanställd läkare.")
        self.cancel(
            wrong,
            self.after(at, 1, 2, _ORDER_TIMES),
            "Beställningen gjordes med fel uppgifter; en ny beställning görs.",
        )
        again = self.on(2023, 4, 17, ("13:40",))
        card = self.order(key, again, note="Nyanställd läkare.")
        self.legacy_path(card, again)

    def story_lost_in_reserve_weeks(self, key: str) -> None:
        """Lost in the reserve-only weeks (R1): a reserve card at once, handed out by
        2024-01-22 (R3); the new photo card waits for the new portal (R2) and, once it is
        activated, the reserve card goes back."""
        card, _, _ = self.legacy_card(key, date(2023, 2, 6), date(2023, 6, 9))
        lost = (
            self.on(2023, 12, 19, ("08:05",))
            if key == "innehavare"
            else self.on(2024, 1, 3, ("08:05",))
        )
        self.block(card, lost, BlockReason.LOST, "Kortet borttappat.", by="holder")
        at = lost + timedelta(minutes=40)
        photo = self.replace(card, at, BlockReason.LOST, "Ersätter borttappat kort.")
        reserve = self.order(
            key,
            at + timedelta(minutes=5),
            CardType.RESERVE,
            "Reservkort i väntan på nytt fotokort.",
        )
        produced = self.after(at, 1, 1, _BACK_OFFICE_TIMES)
        self.produce(reserve, produced)
        self.send(reserve, produced + timedelta(minutes=40))
        collect = self.on(2024, 1, 11) if key == "innehavare" else self.on(2024, 1, 15)
        self.hand_out(reserve, collect)
        activated = self.new_path(photo, at, photographed_at=self.on(2024, 1, 29))
        self.block(
            reserve,
            activated + timedelta(minutes=10),
            BlockReason.REPLACED,
            "Reservkortet återlämnat när fotokortet aktiverades.",
            by="id_admin",
        )
        if key == "innehavare":
            self.self_service_certificates(photo, self.on(2024, 3, 5, ("19:30",)))
            self.pin_letter(photo, self.on(2024, 9, 16, ("20:15",)))
            self.unlock(photo, self.on(2025, 2, 11))

    def story_not_collected(self, key: str) -> None:
        """Code envelope sent in December 2023, the card never collected: blocked by the
        nightly job on 2024-01-23 (R3), then replaced in the new process."""
        at = self.on(2023, 11, 20, _ORDER_TIMES)
        card = self.order(key, at)
        self.legacy_path(card, at, produce_on=self.on(2023, 12, 13, ("10:40",)), collect=False)
        again = self.between(date(2024, 2, 5), date(2024, 2, 16))
        new = self.replace(
            card, again, BlockReason.NOT_COLLECTED, "Kortet hämtades inte ut före 22 januari."
        )
        self.new_path(new, again)

    def story_reserve_not_collected(self, key: str) -> None:
        at = self.on(2024, 1, 8, ("09:00",))
        photo = self.order(key, at, note="Nyanställd; fotografering från 26 januari.")
        reserve = self.order(
            key,
            at + timedelta(minutes=5),
            CardType.RESERVE,
            "Nyanställd; reservkort tills fotokortet finns.",
        )
        self.legacy_path(reserve, at, produce_on=self.on(2024, 1, 9, ("13:15",)), collect=False)
        self.new_path(photo, at, photographed_at=self.on(2024, 1, 30))

    def story_photographed_before_the_pause(self, key: str) -> None:
        """Photographed on 12 December 2023; production closed for photo cards from the 18th
        (R1), so the card is produced in the new design (R5) after 26 January."""
        at = self.on(2023, 12, 4, _ORDER_TIMES)
        card = self.order(key, at, note="Nyanställd sjuksköterska.")
        self.photograph(card, self.on(2023, 12, 12))
        produced = self.on(2024, 1, 29, ("10:40",))
        self.produce(card, produced)
        self.send(card, produced + timedelta(minutes=40))
        self.activate(card, self.after(produced, 5, 9))

    def story_reserve_in_january(self, key: str) -> None:
        """Reserve card produced on 9 January 2024, sent on the 10th, collected on the 16th."""
        at = self.on(2024, 1, 9, ("08:40",))
        photo = self.order(key, at, note="Nyanställd; fotografering från 26 januari.")
        reserve = self.order(
            key, at + timedelta(minutes=5), CardType.RESERVE, "Reservkort tills fotokortet finns."
        )
        self.produce(reserve, _at(date(2024, 1, 9), "14:00"))
        self.send(reserve, _at(date(2024, 1, 10), "13:30"))
        self.hand_out(reserve, _at(date(2024, 1, 16), "09:30"))
        activated = self.new_path(photo, at, photographed_at=self.on(2024, 2, 1))
        self.block(
            reserve,
            activated + timedelta(minutes=10),
            BlockReason.REPLACED,
            "Reservkortet återlämnat när fotokortet aktiverades.",
            by="id_admin",
        )

    def story_blocked_during_stop(self, key: str) -> None:
        """Lost during the stop (R4): the block is taken at once; the new card is ordered on
        the 26th, when ordering opens again."""
        card, _, _ = self.legacy_card(key, date(2023, 5, 2), date(2023, 5, 31))
        self.block(
            card,
            _at(date(2024, 1, 24), "10:15"),
            BlockReason.LOST,
            "Spärren togs emot under beställnings- och utfärdarstoppet.",
        )
        at = _at(date(2024, 1, 26), "08:30")
        new = self.replace(card, at, BlockReason.LOST, "Ersätter borttappat kort.")
        self.new_path(new, at)

    def story_new_card(self, key: str) -> None:
        at = self.between(date(2024, 2, 19), date(2024, 4, 26))
        card = self.order(key, at, note="Första kortet i den nya kortutfärdarportalen.")
        self.new_path(card, at)

    def story_new_card_pin_unlocked(self, key: str) -> None:
        at = self.between(date(2025, 3, 3), date(2025, 3, 28))
        card = self.order(key, at, note="Nyanställd läkare.")
        activated = self.new_path(card, at)
        self.unlock(card, self.after(activated, 120, 180))  # R14: at the card office

    def story_not_activated(self, key: str) -> None:
        """Sent home but never activated within three months (R8): blocked by the nightly
        job; a new card is ordered and this time activated."""
        first = date(2024, 5, 6) if key == "hanna" else date(2025, 2, 3)
        at = self.between(first, first + timedelta(days=20))
        card = self.order(key, at, note="Nyanställd.")
        sent = self.new_path(card, at, activate=False)
        deadline = self.calendar.activation_deadline(sent)
        again = self.between(deadline + timedelta(days=14), deadline + timedelta(days=30))
        new = self.replace(
            card, again, BlockReason.NOT_ACTIVATED, "Kortet aktiverades inte inom tre månader."
        )
        self.new_path(new, again)

    def story_stolen(self, key: str) -> None:
        at = self.between(date(2024, 3, 4), date(2024, 3, 22))
        card = self.order(key, at, note="Nyanställd.")
        self.new_path(card, at)
        stolen = self.between(date(2025, 4, 7), date(2025, 4, 25), _ANY_TIMES)
        self.block(card, stolen, BlockReason.STOLEN, "Stulet med plånboken; polisanmält.")
        again = self.after(stolen, 1, 2, _ORDER_TIMES)
        new = self.replace(card, again, BlockReason.STOLEN, "Ersätter stulet kort.")
        self.new_path(new, again)

    def story_reserve_order_cancelled(self, key: str) -> None:
        at = self.between(date(2024, 8, 12), date(2024, 8, 30))
        card = self.order(key, at, note="Nyanställd.")
        self.new_path(card, at)
        forgot = self.between(date(2025, 2, 10), date(2025, 2, 21))
        reserve = self.order(key, forgot, CardType.RESERVE, "Kortet kvarglömt på tjänsteresa.")
        self.cancel(
            reserve,
            self.after(forgot, 1, 1, _ORDER_TIMES),
            "Fotokortet kom tillbaka; reservkortet behövs inte.",
        )

    def story_reserve_in_new_process(self, key: str) -> None:
        """Lost in 2025: a reserve card, sent home and activated (R6, R7), bridges the weeks
        until the new photo card is activated."""
        at = self.between(date(2024, 2, 5), date(2024, 2, 23))
        card = self.order(key, at, note="Nyanställd.")
        self.new_path(card, at)
        lost = self.between(date(2025, 5, 12), date(2025, 5, 23), _ANY_TIMES)
        self.block(card, lost, BlockReason.LOST, "Kortet borttappat.")
        again = self.after(lost, 1, 1, ("08:35",))
        photo = self.replace(card, again, BlockReason.LOST, "Ersätter borttappat kort.")
        reserve = self.order(
            key,
            again + timedelta(minutes=5),
            CardType.RESERVE,
            "Reservkort i väntan på nytt fotokort.",
        )
        reserve_active = self.new_path(reserve, again)
        activated = self.new_path(
            photo, again, photographed_at=reserve_active + timedelta(minutes=10)
        )
        self.block(
            reserve,
            activated + timedelta(minutes=10),
            BlockReason.REPLACED,
            "Reservkortet återlämnat när fotokortet aktiverades.",
            by="id_admin",
        )

    # --- current cards, a few working days before the build instant ---

    def current(
        self,
        key: str,
        steps: list[tuple[str, int, str]],
        card_type: CardType = CardType.PHOTO,
        note: str = "Nyanställd.",
    ) -> None:
        """Steps (action, working days before the build instant, clock time), kept only if
        the policy calendar allows every step when it falls."""
        plan = [(action, self.workdays_before_build(days, hhmm)) for action, days, hhmm in steps]
        needs = {
            "order": PolicyAction.ORDER,
            "photograph": PolicyAction.PHOTOGRAPH,
            "produce": PolicyAction.ISSUE,
            "send": PolicyAction.ISSUE,
            "activate": PolicyAction.ACTIVATE,
        }
        for action, at in plan:
            if at < HISTORY_START or at >= self.build_at:
                return
            if action in needs and not self.calendar.decide(needs[action], card_type, at).allowed:
                return
            if action == "send" and self.calendar.delivery_path(at) is not DeliveryPath.HOME:
                return
            if action == "unlock" and self.calendar.generation_at(at) is Generation.LEGACY:
                return
        card: _CardRef | None = None
        for action, at in plan:
            if action == "order":
                card = self.order(key, at, card_type, note)
                continue
            assert card is not None
            if action == "cancel":
                self.cancel(card, at, "Anställningen påbörjas inte.")
            else:
                step: Any = getattr(self, action)
                step(card, at)

    def story_current_ordered(self, key: str) -> None:
        self.current(key, [("order", 2, "13:40")])

    def story_current_photographed(self, key: str) -> None:
        self.current(key, [("order", 9, "11:25"), ("photograph", 1, "09:50")])

    def story_current_produced(self, key: str) -> None:
        self.current(
            key, [("order", 14, "08:35"), ("photograph", 8, "10:05"), ("produce", 1, "14:05")]
        )

    def story_current_sent(self, key: str) -> None:
        self.current(
            key,
            [
                ("order", 20, "09:10"),
                ("photograph", 15, "09:20"),
                ("produce", 12, "13:15"),
                ("send", 12, "13:55"),
            ],
        )

    def story_current_reserve_sent(self, key: str) -> None:
        self.current(
            key,
            [("order", 6, "15:05"), ("produce", 5, "10:40"), ("send", 5, "11:20")],
            CardType.RESERVE,
            "Vikariat; reservkort under anställningen.",
        )

    def story_current_activated(self, key: str) -> None:
        self.current(
            key,
            [
                ("order", 30, "11:25"),
                ("photograph", 25, "09:35"),
                ("produce", 22, "08:20"),
                ("send", 22, "09:00"),
                ("activate", 10, "10:20"),
                ("unlock", 2, "09:05"),
            ],
        )

    def story_current_cancelled(self, key: str) -> None:
        self.current(
            key, [("order", 12, "13:40"), ("photograph", 10, "10:35"), ("cancel", 3, "08:35")]
        )
