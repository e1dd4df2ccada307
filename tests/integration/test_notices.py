"""E-mail notices (services/notices.py) through a real SMTP server: recorded once per
threshold at named instants around each boundary, delivered in Swedish then English, retried
after a failed delivery, lapsed when moot, and shown in the person's history."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from ekort.domain.lifecycle import CardState
from ekort.domain.notices import CardFacts, notices_due
from ekort.domain.timekeeping import local_date
from ekort.services import audit, cards, history, notices
from ekort.store.models import AuditEntry, Card, Notice, Person
from ekort.web.history_words import history_rows
from tests import factories
from tests import instants as t
from tests.integration import bulk_cards as bulk
from tests.integration.journeys import PASSPORT, PIN, sent
from tests.smtp import Inbox

pytestmark = pytest.mark.django_db

HOLDER = "erik.eriksson@regiongavleborg.se"
MANAGER = "maria.chef@regiongavleborg.se"
LAST_DAY = date(2024, 4, 30)  # R8: a card sent 2024-01-31 is activated by then


@pytest.fixture
def people(world):
    Person.objects.filter(pk=world.employee.pk).update(email=HOLDER)
    Person.objects.filter(pk=world.manager.pk).update(email=MANAGER)
    world.employee.refresh_from_db()
    world.manager.refresh_from_db()
    return world


def waiting(world, deadline: date = LAST_DAY, person=None):
    [card] = bulk.cards(
        person or world.employee,
        world.orderer,
        1,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=deadline,
    )
    return card


def kinds(kind: str | None = None) -> list[tuple[str, str, int]]:
    rows = Notice.objects.order_by("pk")
    if kind:
        rows = rows.filter(kind=kind)
    return [(n.kind, n.role, n.days_before) for n in rows]


def test_pickup_reminders_at_14_and_3_days_each_sent_once_to_holder_and_manager(people, smtp):
    """R3: a card waiting at the hand-out point, to be collected by 2024-01-22."""
    [card] = bulk.cards(
        people.employee,
        people.orderer,
        1,
        state="awaiting_pickup",
        ordered_at=t.sthlm(2023, 12, 1, 10),
        pickup_deadline=date(2024, 1, 22),
    )
    assert notices.run(t.sthlm(2024, 1, 7, 23, 59, 59)).recorded == 0  # 15 days left

    run = notices.run(t.sthlm(2024, 1, 8))  # 14 days left
    assert (run.recorded, run.sent, run.failed) == (2, 2, 0)
    assert kinds() == [("pickup_deadline", "holder", 14), ("pickup_deadline", "manager", 14)]
    [to_holder] = smtp.inbox.to(HOLDER)
    [to_manager] = smtp.inbox.to(MANAGER)
    assert str(to_holder["Subject"]).strip().startswith("Hämta ut ditt e-tjänstekort senast")
    assert "Erik Erikssons e-tjänstekort måste hämtas ut senast 2024-01-22" in str(
        to_manager["Subject"]
    )
    text = Inbox.text(to_holder)
    assert "regel R3" in text and "rule R3" in text and card.number in text
    assert text.index("Hej Erik Eriksson!") < text.index("Hello Erik Eriksson,")

    # The same day again and the days up to the 3-day threshold: nothing new.
    for again in (t.sthlm(2024, 1, 8, 23, 59, 59), t.sthlm(2024, 1, 18, 12)):
        assert (notices.run(again).recorded, len(smtp.inbox.messages)) == (0, 2)
    run = notices.run(t.sthlm(2024, 1, 19))  # 3 days left
    assert (run.recorded, run.sent) == (2, 2)
    assert "om 3 dagar" in Inbox.text(smtp.inbox.to(HOLDER)[-1])
    assert notices.run(t.LAST_PICKUP_DAY_END).recorded == 0
    assert notices.run(t.STOP_START).recorded == 0
    assert len(smtp.inbox.messages) == 4


def test_activation_reminders_at_14_and_3_days_each_sent_once_to_holder_and_manager(people, smtp):
    card = waiting(people)
    day_before = t.sthlm(2024, 4, 15, 23, 59, 59)  # 15 days left
    assert notices.run(day_before).recorded == 0
    assert smtp.inbox.messages == []

    first = t.sthlm(2024, 4, 16)  # 14 days left
    run = notices.run(first)
    assert (run.recorded, run.sent, run.failed) == (2, 2, 0)
    assert kinds() == [
        ("activation_deadline", "holder", 14),
        ("activation_deadline", "manager", 14),
    ]
    [to_holder] = smtp.inbox.to(HOLDER)
    [to_manager] = smtp.inbox.to(MANAGER)
    assert "2024-04-30" in to_holder["Subject"]
    assert "Erik Erikssons e-tjänstekort" in str(to_manager["Subject"])
    assert "Erik Eriksson's e-service card" in str(to_manager["Subject"])
    assert card.number in Inbox.text(to_holder)

    # A second run the same day, and the next days up to the 3-day threshold: nothing new.
    for again in (t.sthlm(2024, 4, 16, 23, 59, 59), t.sthlm(2024, 4, 26, 12)):
        run = notices.run(again)
        assert (run.recorded, run.sent) == (0, 0)
    assert len(smtp.inbox.messages) == 2

    run = notices.run(t.sthlm(2024, 4, 27))  # 3 days left
    assert (run.recorded, run.sent) == (2, 2)
    assert notices.run(t.LAST_ACTIVATION_DAY_END).recorded == 0
    assert len(smtp.inbox.messages) == 4
    assert notices.run(t.AFTER_ACTIVATION_WINDOW).recorded == 0

    notice = Notice.objects.get(role="holder", days_before=3)
    assert (notice.status, notice.sent_to, notice.attempts, notice.sent_at) == (
        "sent",
        HOLDER,
        1,
        t.sthlm(2024, 4, 27),
    )
    assert audit.verify_trail() == []


def test_mail_is_swedish_then_english_and_holds_no_identity_number_code_or_address(people, smtp):
    employee = people.employee
    Person.objects.filter(pk=employee.pk).update(protected_identity=True)
    card = sent(people, "photo", t.NEW_PROCESS, t.NEW_PROCESS)  # through the services: a PUK
    notices.run(t.NEW_PROCESS + timedelta(hours=1))
    [mail] = smtp.inbox.to(HOLDER)
    text = Inbox.text(mail)
    assert (
        str(mail["Subject"]).strip().startswith("Ditt e-tjänstekort har skickats / Your e-service")
    )
    assert text.index("Hej Erik Eriksson!") < text.index("Hello Erik Eriksson,")
    assert "2024-04-30" in text and "R8" in text
    assert card.number in text
    whole = mail.as_string() + text
    number = employee.identity_number
    for form in (number, number[2:], f"{number[:8]}-{number[8:]}", f"{number[2:8]}-{number[8:]}"):
        assert form not in whole
    assert employee.street_address not in whole
    assert employee.postal_code not in whole
    assert PIN not in whole
    assert re.search(r"\b\d{8}\b", text) is None  # no PUK (eight digits), nor a bare number


def test_a_refused_delivery_is_noted_and_tried_again_next_run_without_stopping_the_rest(
    people, smtp
):
    waiting(people)
    smtp.inbox.refuse.add(HOLDER)
    run = notices.run(t.sthlm(2024, 4, 16, 2))
    assert (run.recorded, run.sent, run.failed) == (2, 1, 1)
    assert [m["To"] for m in smtp.inbox.messages] == [MANAGER]
    failed = Notice.objects.get(role="holder")
    assert (failed.status, failed.attempts, failed.sent_at) == ("pending", 1, None)
    assert "Mailbox unavailable" in failed.failure

    smtp.inbox.refuse.clear()
    run = notices.run(t.sthlm(2024, 4, 17, 2))
    assert (run.recorded, run.sent, run.failed) == (0, 1, 0)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.failure) == ("sent", 2, "")
    assert [m["To"] for m in smtp.inbox.messages] == [MANAGER, HOLDER]


def test_a_mail_server_that_is_down_stops_nothing_and_the_next_run_delivers(people, smtp):
    waiting(people)
    smtp.stop()
    out = io.StringIO()
    call_command("jobs", "run", "--at", "2024-04-16T02:00:00+02:00", stdout=out)
    assert "notices: 2 new, 0 sent, 2 failed" in out.getvalue()
    assert set(Notice.objects.values_list("status", "attempts")) == {("pending", 1)}

    smtp.start()
    out = io.StringIO()
    call_command("jobs", "run", "--at", "2024-04-17T02:00:00+02:00", stdout=out)
    assert "notices: 0 new, 2 sent, 0 failed" in out.getvalue()
    assert sorted(m["To"] for m in smtp.inbox.messages) == [HOLDER, MANAGER]


def test_a_pending_notice_lapses_when_the_card_is_activated_before_it_could_be_sent(people, smtp):
    card = sent(people, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    smtp.stop()
    notices.run(t.sthlm(2024, 4, 16, 2))  # the 14-day reminders: not delivered
    cards.activate(
        actor=people.id_admin,
        now=t.sthlm(2024, 4, 16, 10),
        activations={card.pk: cards.Activation(PASSPORT, PIN)},
    ).one()
    smtp.start()
    run = notices.run(t.sthlm(2024, 4, 17, 2))
    assert (run.sent, run.lapsed) == (0, 2)
    assert smtp.inbox.messages == []
    assert set(Notice.objects.values_list("status", flat=True)) == {"lapsed"}


def test_a_blocked_card_says_when_why_and_whom_to_call(people, smtp):
    card = sent(people, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    cards.block(
        actor=people.support,
        card_ids=[card.pk],
        reason="stolen",
        requested_by="the holder",
        now=t.sthlm(2024, 2, 12, 9, 30),
    ).one()
    notices.run(t.sthlm(2024, 2, 13, 2))
    [mail] = smtp.inbox.to(HOLDER)  # a theft is not a deadline: the manager is not told
    assert smtp.inbox.to(MANAGER) == []
    text = Inbox.text(mail)
    assert "spärrades 2024-02-12 09:30" in text
    assert "Skäl: stulet" in text and "Reason: stolen" in text
    assert "(026-1) 53 000" in text and "ekortorder@regiongavleborg.se" in text


def test_the_deadline_block_tells_holder_and_manager_the_same_night(people, smtp):
    waiting(people)
    call_command("jobs", "run", "--at", "2024-05-01T00:05:00+02:00", stdout=io.StringIO())
    assert kinds("card_blocked") == [("card_blocked", "holder", 0), ("card_blocked", "manager", 0)]
    assert "aktiverades inte i tid (R8)" in Inbox.text(smtp.inbox.to(MANAGER)[0])
    # A block is news for a week, not for ever.
    assert notices.record_due(t.sthlm(2024, 5, 9)) == 0


def test_card_expiry_at_90_and_30_days_and_a_certificate_ending_before_its_card(people, pki, smtp):
    last_day = date(2026, 3, 31)
    [card] = bulk.cards(
        people.employee,
        people.orderer,
        1,
        state="active",
        ordered_at=t.NEW_PROCESS,
        valid_until=last_day,
    )
    ends = t.sthlm(2025, 12, 31, 12)
    certificate = bulk.signature_certificate(
        card, pki.issuing["3"], issued=t.NEW_PROCESS, ends=ends
    )
    assert certificate.pk
    assert notices.record_due(t.sthlm(2025, 10, 1, 23)) == 0  # 91 days before the certificate
    assert notices.record_due(t.sthlm(2025, 10, 2)) == 1  # 90 days: the holder downloads anew
    assert notices.record_due(t.sthlm(2025, 12, 1)) == 1  # 30 days
    assert notices.record_due(t.sthlm(2025, 12, 30, 23)) == 0
    assert notices.record_due(t.sthlm(2025, 12, 31)) == 2  # the card's 90 days: and its manager
    assert notices.record_due(t.sthlm(2026, 3, 1)) == 2  # the card's 30 days
    assert notices.record_due(t.sthlm(2026, 3, 31, 23, 59)) == 0
    assert kinds() == [
        ("certificate_expiring", "holder", 90),
        ("certificate_expiring", "holder", 30),
        ("card_expiring", "holder", 90),
        ("card_expiring", "manager", 90),
        ("card_expiring", "holder", 30),
        ("card_expiring", "manager", 30),
    ]
    run = notices.deliver(t.sthlm(2026, 3, 1, 2))
    # The certificate's notices lapsed with their day; the card's 90-day ones are still sent.
    assert (run.sent, run.lapsed) == (4, 2)
    texts = [Inbox.text(m) for m in smtp.inbox.to(MANAGER)]
    assert all("Beställ ett nytt kort" in text for text in texts)
    assert "gäller till och med 2026-03-31 (om 30 dagar)" in texts[-1]


def test_the_certificate_notice_names_the_certificate(people, pki, smtp):
    [card] = bulk.cards(
        people.employee, people.orderer, 1, state="active", ordered_at=t.NEW_PROCESS
    )
    bulk.signature_certificate(
        card, pki.issuing["3"], issued=t.NEW_PROCESS, ends=t.sthlm(2026, 6, 30, 12)
    )
    notices.run(t.sthlm(2026, 6, 1, 2))
    [mail] = smtp.inbox.messages
    text = Inbox.text(mail)
    assert "Ditt underskriftscertifikat på e-tjänstekortet" in text
    assert "Your signature certificate" in text
    assert "2026-06-30 (om 29 dagar)" in text


def test_no_address_no_record_until_one_is_registered(people, smtp):
    Person.objects.filter(pk=people.employee.pk).update(email="")
    waiting(people)
    assert kinds() == []
    notices.run(t.sthlm(2024, 4, 16, 2))
    assert kinds() == [("activation_deadline", "manager", 14)]
    Person.objects.filter(pk=people.employee.pk).update(email=HOLDER)
    notices.run(t.sthlm(2024, 4, 20, 2))  # still in the 14-day window
    assert kinds() == [
        ("activation_deadline", "manager", 14),
        ("activation_deadline", "holder", 14),
    ]
    assert len(smtp.inbox.to(HOLDER)) == 1


def test_sent_notices_are_in_the_histories_of_the_holder_the_manager_and_the_card(people, smtp):
    card = waiting(people)
    notices.run(t.sthlm(2024, 4, 16, 2))
    to_holder = Notice.objects.get(role="holder")
    to_manager = Notice.objects.get(role="manager")

    def told(entries: list[AuditEntry]) -> set[str]:
        return {e.object_id for e in entries if e.action == "notice_sent"}

    assert told(history.person_history(people.employee.pk)) == {
        str(to_holder.pk),
        str(to_manager.pk),
    }
    assert told(history.person_history(people.manager.pk)) == {str(to_manager.pk)}
    assert told(history.card_history(card.pk)) == {str(to_holder.pk), str(to_manager.pk)}
    entry = AuditEntry.objects.get(object_type="notice", object_id=str(to_manager.pk))
    assert entry.actor == "job:notices"
    assert entry.after == {
        "notice": "activation_deadline",
        "recipient": "manager",
        "card_id": card.pk,
        "card_number": card.number,
        "event_on": "2024-04-30",
        "days_before": 14,
    }
    # As the support desk reads it (Kundtjänst, the person's page).
    [row] = [r for r in history_rows([entry])]
    assert row.what == "E-postavisering skickades"
    assert row.about == f"Avisering {to_manager.pk}"
    facts = {fact.label: fact.after for fact in row.facts}
    assert facts["Avisering"] == "Sista dag att aktivera kortet närmar sig"
    assert facts["Till"] == "Närmaste chef"
    assert facts["Gäller dagen"] == "2024-04-30"


def test_the_sql_selection_agrees_with_the_domain_on_every_day_around_the_thresholds(people):
    """Cards whose dates lie on each side of every threshold, recorded day by day: on each day
    the job records exactly what `notices_due` says is due and not recorded before."""
    other = factories.person(given="Karin", family="Larsson", manager=people.manager)
    Person.objects.filter(pk=other.pk).update(email="karin@regiongavleborg.se")
    start = date(2024, 3, 1)
    for offset in range(0, 100, 7):
        day = start + timedelta(days=offset)
        bulk.cards(
            people.employee,
            people.orderer,
            1,
            state="active",
            ordered_at=t.NEW_PROCESS,
            valid_until=day + timedelta(days=60),
        )
        bulk.cards(
            other,
            people.orderer,
            1,
            state="sent_inactive",
            ordered_at=t.sthlm(2024, 3, 1) + timedelta(days=offset),
            activation_deadline=day,
        )
        bulk.cards(
            other,
            people.orderer,
            1,
            state="awaiting_pickup",
            ordered_at=t.NEW_PROCESS,
            pickup_deadline=day,
        )
    expected: set[tuple[int, str, int]] = set()
    for n in range(0, 120, 1):
        now = t.sthlm(2024, 2, 20, 3) + timedelta(days=n)
        today = local_date(now)
        for card in Card.objects.select_related("person"):
            facts = CardFacts(
                CardState(card.state),
                sent_on=local_date(card.sent_at) if card.sent_at else None,
                pickup_deadline=card.pickup_deadline,
                activation_deadline=card.activation_deadline,
                valid_until=card.valid_until,
                has_manager=card.person.manager_id is not None,
            )
            for due in notices_due(facts, today):
                for role in due.recipients:
                    expected.add((card.pk, due.kind.value, due.days_before, role.value))
        notices.record_due(now)
        recorded = set(Notice.objects.values_list("card_id", "kind", "days_before", "role"))
        assert recorded == expected, today
    assert len(expected) > 50


def test_the_swedish_genitive_of_a_name_ending_in_s_takes_no_s():
    assert notices._genitive_sv("Erik Eriksson") == "Erik Erikssons"
    assert notices._genitive_sv("Lars Nils") == "Lars Nils"
    assert notices._genitive_sv("Max Fox") == "Max Fox"


def test_a_person_is_registered_with_a_work_address_for_the_notices(world):
    from ekort.domain.errors import InvalidInput
    from ekort.services.people import PersonDetails, register_person

    details = PersonDetails(
        identity_number=factories.identity_number("19900101"),
        given_name="Sara",
        family_name="Holm",
        email=" sara.holm@regiongavleborg.se ",
    )
    person = register_person(actor=world.support, details=details, now=t.NEW_PROCESS)
    assert person.email == "sara.holm@regiongavleborg.se"
    bad = PersonDetails(
        identity_number=factories.identity_number("19900102"),
        given_name="Per",
        family_name="Holm",
        email="per.holm(at)regiongavleborg.se",
    )
    with pytest.raises(InvalidInput, match="not one"):
        register_person(actor=world.support, details=bad, now=t.NEW_PROCESS)
