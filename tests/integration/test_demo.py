"""`ekort demo`: the demo region, built through the services, on the configured database."""

from __future__ import annotations

import re
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from ekort import demo
from ekort.domain.identifiers import parse_hsa_id, parse_identity_number
from ekort.domain.lifecycle import LIVE_STATES, CardState
from ekort.domain.timekeeping import local_date, parse_instant
from ekort.domain.vocabulary import Role
from ekort.services import audit, renewals
from ekort.store.models import (
    Account,
    AuditEntry,
    Card,
    CardOffice,
    Organisation,
    Person,
)

pytestmark = pytest.mark.django_db

LATE = "2026-11-28T10:00+01:00"
JANUARY = "2024-01-10T10:00+01:00"


def run_demo(at: str) -> str:
    out = StringIO()
    call_command("demo", "--at", at, stdout=out)
    return out.getvalue()


def printed_logins(output: str) -> dict[str, tuple[str, str]]:
    """role -> (username, password), as the login table prints them."""
    table = output.split("\nLogins:\n", 1)[1]
    rows = re.findall(r"^  (\S+) +(\S+) +(demo-\S+)", table, flags=re.MULTILINE)
    return {role: (username, password) for role, username, password in rows}


def states() -> set[str]:
    return set(Card.objects.values_list("state", flat=True))


def check_region(at: str) -> None:
    today = local_date(parse_instant(at))
    assert Organisation.objects.get().organisation_number == "2321000198"

    offices = list(CardOffice.objects.prefetch_related("hours", "exceptions"))
    assert len(offices) == 5
    assert {o.town for o in offices} == {"Gävle", "Sandviken", "Hudiksvall", "Bollnäs", "Ljusdal"}
    for office in offices:
        assert office.street_address and office.postal_code and office.phone
        assert office.hours.exists(), office.town
        closed = {e.day for e in office.exceptions.all() if e.opens is None}
        assert {date(2023, 12, 25), date(2023, 12, 26), date(2024, 1, 1)} <= closed
        next_christmas = date(today.year, 12, 25)
        assert next_christmas in closed and date(today.year + 1, 1, 1) in closed

    persons = list(Person.objects.all())
    assert 45 <= len(persons) <= 60
    managers = {p.manager_id for p in persons if p.manager_id}
    for person in persons:
        parse_hsa_id(person.hsa_id)
        identity = parse_identity_number(person.identity_number, today=today)
        assert identity.age_on(today) >= 18
        assert person.has_registered_address
        if person.pk not in managers:
            assert person.manager_id is not None, person.full_name
    kinds = {p.identity_kind for p in persons}
    assert kinds == {"personnummer", "samordningsnummer"}
    assert any(p.protected_identity for p in persons)


def check_rules_hold(at: str) -> None:
    """The history obeys the calendar and the lifecycle as the services and jobs enforce them."""
    today = local_date(parse_instant(at))
    assert audit.verify_trail() == []
    instants = list(AuditEntry.objects.order_by("seq").values_list("at", flat=True))
    assert instants == sorted(instants), "the trail is told in time order"
    for entry in AuditEntry.objects.filter(action__in=["order", "produce", "send"]):
        day = local_date(entry.at)
        assert not date(2024, 1, 23) <= day <= date(2024, 1, 25), entry.seq  # R4
    for card in Card.objects.select_related("order"):
        if card.activated_by_id is not None:
            assert card.activated_by_id != card.order.ordered_by_id  # E3
        if card.produced_at is not None:
            produced_on = local_date(card.produced_at)
            assert card.sis_marked == (
                card.card_type == "photo" and produced_on <= date(2022, 9, 30)
            )  # R17
            if card.card_type == "photo":
                assert not date(2023, 12, 18) <= produced_on <= date(2024, 1, 25)  # R1, R4
        if card.photographed_at is not None:
            assert not date(2023, 12, 18) <= local_date(card.photographed_at) <= date(2024, 1, 25)
        # The deadline jobs have run: nothing live is overdue (R3, R8, validity).
        if card.state in LIVE_STATES:
            assert card.valid_until is not None and card.valid_until >= today
        if card.state == CardState.AWAITING_PICKUP:
            assert card.pickup_deadline is not None and card.pickup_deadline >= today
        if card.state == CardState.SENT_INACTIVE:
            assert card.activation_deadline is not None and card.activation_deadline >= today


def test_demo_late_instant_has_every_state_and_working_logins():
    output = run_demo(LATE)
    assert "built as of 2026-11-28T10:00+01:00" in output
    check_region(LATE)
    check_rules_hold(LATE)

    # R3 blocked every code-envelope card not collected by 2024-01-22, so none awaits pick-up.
    assert states() == set(CardState) - {CardState.AWAITING_PICKUP}
    produced = Card.objects.exclude(number=None)
    assert set(produced.values_list("generation", flat=True)) == {"legacy", "portrait-2024"}
    assert Card.objects.filter(state="expired", generation="legacy").exists()
    assert Card.objects.filter(sis_marked=True).exists()
    assert Card.objects.filter(card_type="reserve").exists()
    for generation in ("legacy", "portrait-2024"):
        for state in ("active", "blocked"):
            assert Card.objects.filter(generation=generation, state=state).exists()

    logins = printed_logins(output)
    assert set(logins) == {*(role.value for role in Role), "superuser"}
    for role, (username, password) in logins.items():
        user = authenticate(username=username, password=password)
        assert user is not None, username
        if role == "superuser":
            assert user.is_superuser and user.is_staff
        else:
            assert role in set(user.groups.values_list("name", flat=True))
    holder = Account.objects.get(user__username=logins["holder"][0]).person
    assert holder is not None and holder.cards.exists()
    orderer = Account.objects.get(user__username=logins["orderer"][0]).person
    assert orderer is not None and orderer.reports.exists() and orderer.cards.exists()
    id_admin = Account.objects.get(user__username=logins["id_admin"][0])
    assert id_admin.office is not None and id_admin.office.town == "Gävle"

    # The HR department's nightly files (demo/register.py): a new name, a last day of
    # employment, by the import, in the persons' histories.
    renamed = Person.objects.get(given_name="Katarzyna")
    assert renamed.family_name == "Nowak Lind" and renamed.name_changed_at is not None
    assert renamed.cards.filter(state="active", produced_at__lt=renamed.name_changed_at).exists()
    left = Person.objects.get(given_name="Henrik", family_name="Gustafsson")
    assert left.employment_ends == date(2025, 3, 31)
    assert not left.cards.filter(state__in=LIVE_STATES).exists()
    actors = set(AuditEntry.objects.filter(action="update_person").values_list("actor", flat=True))
    assert actors == {"job:people-import:hr-2025-04-01.csv", "job:people-import:hr-2025-10-06.csv"}

    # Renewal (E12): Sara's card runs out within 90 days with nothing ordered, so it is on the
    # worklists; Per's was renewed a few days ago and still works until the new one is active.
    support = User.objects.get(username=logins["support"][0])
    due = {row.holder: row for row in renewals.worklist(support, parse_instant(LATE), 90)}
    assert "Sara Holm" in due and 30 < due["Sara Holm"].days_left <= 90
    assert "Per Nyström" not in due
    per = Person.objects.get(given_name="Per", family_name="Nyström")
    [old] = per.cards.filter(state="active")
    assert per.cards.get(order__replaces=old).order.replacement_reason == "expiring"

    # A second run finds the demo and changes nothing.
    before = demo.summarise()
    again = run_demo(LATE)
    assert "Demo data already present" in again
    assert printed_logins(again) == logins
    assert demo.summarise() == before


def test_demo_in_the_reserve_only_weeks():
    output = run_demo(JANUARY)
    assert "built as of 2024-01-10T10:00+01:00" in output
    check_region(JANUARY)
    check_rules_hold(JANUARY)

    # Nothing is sent home before the new process of 2024-01-25 (R6).
    assert states() == set(CardState) - {CardState.SENT_INACTIVE}
    produced = Card.objects.exclude(number=None)
    assert set(produced.values_list("generation", flat=True)) == {"legacy"}
    # R1, R2: photo cards ordered in the reserve-only weeks wait for the new portal.
    assert Card.objects.filter(card_type="photo", state="ordered").exists()
    assert Card.objects.filter(card_type="reserve", state="awaiting_pickup").exists()


def test_demo_leaves_an_existing_demo_alone_at_another_instant():
    run_demo(JANUARY)
    before = demo.summarise()
    assert "Demo data already present" in run_demo(LATE)
    assert demo.summarise() == before


def test_demo_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        run_demo(LATE)
    assert not Person.objects.exists()


def test_demo_refuses_an_instant_before_its_history():
    with pytest.raises(CommandError, match="2019-01-01 or later"):
        run_demo("2015-06-01")
    with pytest.raises(CommandError, match="not a date or instant"):
        run_demo("yesterday")
