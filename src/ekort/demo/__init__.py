"""The demo region behind `ekort demo` (and so `ekort start` and `make run`): Region Gävleborg,
its five card offices, about fifty persons and their cards, the same every run (seeded random).

Nothing is written straight into the tables. The region, its offices and its logins are set up
through the services; persons are registered and every card is ordered, photographed, produced,
sent, handed out or activated, blocked, replaced or cancelled through the card services, at
historical instants in time order, with the deadline jobs run on the nights when something fell
due (R3, R8, expiry). So every rule holds and the audit trail tells a true story. The history is
written for fixed dates; what lies after the build instant is left out.

- `region`: the organisation, its units, the card offices and their opening hours
- `closed_days`: the offices' holidays and early closings, from the `holidays` library
- `people`: the persons, their managers and the story of each one's cards
- `register`: the HR department's nightly files to the people register (a new name, an end)
- `logins`: the logins printed at the end, and the staff accounts behind the history
- `timeline`: the history's working days, its events in time order and the nightly jobs
- `cards`: the card steps and paths, each taken by the member of staff who would take it
- `stories`, `current`: the stories of the history; the cards under way at the build instant
- `certificates`: the CAs, the holders' self-service certificates, OCSP responses and CRLs
- `summary`: the counts printed at the end
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction

from ekort.domain.timekeeping import local_date
from ekort.store.models import Card, Organisation, Person

from . import certificates, logins, region, register
from .cards import Plan
from .current import STORIES as CURRENT_STORIES
from .logins import LOGINS, STAFF_LOGINS, Login
from .people import PERSONS, register_persons
from .stories import STORIES as HISTORY_STORIES
from .summary import Summary, summarise
from .timeline import EARLIEST_BUILD, HISTORY_START, SEED, DemoError

__all__ = ["DemoError", "DemoOutcome", "Login", "Summary", "build", "demo_present", "summarise"]

STORIES = {**HISTORY_STORIES, **CURRENT_STORIES}


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
    return Organisation.objects.filter(organisation_number=region.ORGANISATION_NUMBER).exists()


def build(at: datetime) -> DemoOutcome:
    """Build the demo as of `at`, or leave an existing demo exactly as it is."""
    started = time.monotonic()
    if settings.PRODUCTION:
        raise DemoError(
            "The demo does not run in production (EKORT_ENV=production): it creates made-up "
            "persons and logins with published passwords."
        )
    if demo_present():
        return DemoOutcome(False, None, summarise(), time.monotonic() - started, who=logins.who())
    if at < EARLIEST_BUILD:
        raise DemoError(
            f"The demo's history starts in {HISTORY_START.year}; give --at "
            f"{EARLIEST_BUILD.date().isoformat()} or later."
        )
    taken = logins.taken_usernames()
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
    passwords = logins.hash_passwords()  # slow on purpose (PBKDF2): outside the transaction
    with transaction.atomic():
        _populate(at, passwords)
    return DemoOutcome(True, at, summarise(), time.monotonic() - started, who=logins.who())


def _populate(at: datetime, passwords: dict[str, str]) -> None:
    units = region.create_region()
    certificates.create_issuers()
    offices = region.create_offices(local_date(at))
    users = logins.create_users(passwords)
    persons = register_persons(units, registrar=users["utgivare"], seed=SEED)
    user_of_person = logins.create_accounts(users, persons, offices)
    plan = Plan(at, persons, users, user_of_person)
    certificates.plan_renewals(plan)
    register.plan_files(plan, persons)
    for spec in PERSONS:
        if spec.story:
            plan.begin_story(spec.key)
            STORIES[spec.story](plan, spec.key)
    plan.play()
    certificates.publish(at)
