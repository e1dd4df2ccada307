"""E-mail notices (services/notices.py) when things go wrong: a mail server that goes away in
the middle of a run, a recipient whose address is gone by the time the mail is sent, a backend
that sends nothing, a connection that cannot be closed, a database that fails while the run
reads or writes; and the records' edge cases (a certificate holder without an address, more
notices than one statement writes). Whatever fails, `deliver` returns, and a notice not sent
stays pending for the next run."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from django.core.mail.backends.smtp import EmailBackend
from django.db import DatabaseError

from ekort.services import audit, notices
from ekort.store.models import AuditEntry, Notice, Person
from tests import factories
from tests import instants as t
from tests.integration import bulk_cards as bulk

pytestmark = pytest.mark.django_db

HOLDER = "erik.eriksson@regiongavleborg.se"
MANAGER = "maria.chef@regiongavleborg.se"
OTHER = "karin.larsson@regiongavleborg.se"
FOURTEEN_DAYS_LEFT = t.sthlm(2024, 4, 16, 2)  # a card to activate by 2024-04-30
NEXT_NIGHT = t.sthlm(2024, 4, 17, 2)


@pytest.fixture
def people(world):
    Person.objects.filter(pk=world.employee.pk).update(email=HOLDER)
    Person.objects.filter(pk=world.manager.pk).update(email=MANAGER)
    return world


def waiting(world, person=None, n: int = 1):
    """Cards sent and not yet activated, to be activated by 2024-04-30 (R8)."""
    return bulk.cards(
        person or world.employee,
        world.orderer,
        n,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=date(2024, 4, 30),
    )


def statuses() -> list[tuple[str, str, int]]:
    return [
        (n.recipient.email, n.status, n.attempts)
        for n in Notice.objects.select_related("recipient").order_by("found_at", "pk")
    ]


# --- The mail server and the backend ----------------------------------------------------------


def test_a_mail_server_that_goes_away_mid_run_fails_the_rest_and_the_next_run_sends_them(
    people, smtp, monkeypatch
):
    other = factories.person(given="Karin", family="Larsson", manager=people.manager)
    Person.objects.filter(pk=other.pk).update(email=OTHER)
    waiting(people)
    waiting(people, person=other)
    assert notices.record_due(FOURTEEN_DAYS_LEFT) == 4
    compose = notices.message_for
    composed = []

    def server_gone_after_the_first(notice, today):
        if composed:
            smtp.stop()  # the server goes down between the first mail and the second
        composed.append(notice.pk)
        return compose(notice, today)

    monkeypatch.setattr(notices, "message_for", server_gone_after_the_first)
    run = notices.deliver(FOURTEEN_DAYS_LEFT)
    # The second fails on the lost connection, the reconnection is refused, and the last two
    # fail on their own: the run goes through every notice and returns.
    assert (run.sent, run.failed) == (1, 3)
    assert len(composed) == 4
    [first, *rest] = statuses()
    assert first[1:] == ("sent", 1)
    assert [status[1:] for status in rest] == [("pending", 1)] * 3
    assert all(n.failure for n in Notice.objects.filter(status="pending"))
    assert len(smtp.inbox.messages) == 1

    monkeypatch.setattr(notices, "message_for", compose)
    smtp.start()
    run = notices.deliver(NEXT_NIGHT)
    assert (run.sent, run.failed) == (3, 0)
    assert {status[1:] for status in statuses()} == {("sent", 1), ("sent", 2)}
    assert sorted(m["To"] for m in smtp.inbox.messages) == sorted([HOLDER, MANAGER, OTHER, MANAGER])


def test_a_recipient_whose_address_is_gone_when_the_mail_goes_is_noted_and_not_sent(people, smtp):
    waiting(people)
    assert notices.record_due(FOURTEEN_DAYS_LEFT) == 2
    Person.objects.filter(pk=people.employee.pk).update(email="")
    run = notices.deliver(FOURTEEN_DAYS_LEFT)
    assert (run.sent, run.failed) == (1, 1)
    to_holder = Notice.objects.get(role="holder")
    assert (to_holder.status, to_holder.attempts, to_holder.sent_to) == ("pending", 1, "")
    assert to_holder.failure == "ValueError: the recipient has no e-mail address any more"
    assert [m["To"] for m in smtp.inbox.messages] == [MANAGER]


class SendsNothing(EmailBackend):
    """Django's SMTP backend, but one that reports every message unsent (as a backend that
    fails silently does)."""

    def send_messages(self, email_messages):
        return 0


class CannotClose(EmailBackend):
    """Django's SMTP backend whose connection cannot be closed, as when its socket was reset."""

    def close(self):
        super().close()
        raise ConnectionResetError(104, "Connection reset by peer")


def test_a_backend_that_reports_a_mail_unsent_leaves_the_notice_pending(people, smtp, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SendsNothing"
    waiting(people)
    run = notices.run(FOURTEEN_DAYS_LEFT)
    assert (run.recorded, run.sent, run.failed) == (2, 0, 2)
    assert {(n.status, n.attempts, n.failure) for n in Notice.objects.all()} == {
        ("pending", 1, "SMTPException: the backend did not send it")
    }
    assert not AuditEntry.objects.filter(action="notice_sent").exists()


def test_a_connection_that_cannot_be_closed_does_not_undo_the_mails_it_sent(
    people, smtp, settings, caplog
):
    settings.EMAIL_BACKEND = f"{__name__}.CannotClose"
    caplog.set_level(logging.DEBUG, logger="ekort.services.notices")
    waiting(people)
    run = notices.run(FOURTEEN_DAYS_LEFT)
    assert (run.sent, run.failed) == (2, 0)
    assert {n.status for n in Notice.objects.all()} == {"sent"}
    assert "closing the connection failed" in caplog.text


def test_a_lost_connection_that_cannot_be_closed_is_opened_anew_for_the_rest(
    people, smtp, settings, monkeypatch
):
    """The first mail finds the server gone and it is back for the second: the broken
    connection's close fails, a new one is opened, and the second mail goes over it."""
    settings.EMAIL_BACKEND = f"{__name__}.CannotClose"
    waiting(people)
    assert notices.record_due(FOURTEEN_DAYS_LEFT) == 2
    compose = notices.message_for
    composed = []

    def server_restarted_for_the_second(notice, today):
        if not composed:
            smtp.stop()
            smtp.start()  # a new server on the same port: the run's connection is lost
        composed.append(notice.pk)
        return compose(notice, today)

    monkeypatch.setattr(notices, "message_for", server_restarted_for_the_second)
    run = notices.deliver(FOURTEEN_DAYS_LEFT)
    assert (run.sent, run.failed) == (1, 1)
    assert [status[1:] for status in statuses()] == [("pending", 1), ("sent", 1)]
    assert len(smtp.inbox.messages) == 1


# --- The database -----------------------------------------------------------------------------


def fails(*args, **kwargs):
    raise DatabaseError("server closed the connection unexpectedly")


@pytest.mark.parametrize("step", ["_pending_ids", "_loaded"])
def test_a_database_that_fails_while_the_pending_notices_are_read_ends_delivery_quietly(
    people, smtp, monkeypatch, caplog, step
):
    waiting(people)
    assert notices.record_due(FOURTEEN_DAYS_LEFT) == 2
    monkeypatch.setattr(notices, step, fails)
    run = notices.deliver(FOURTEEN_DAYS_LEFT)
    assert (run.sent, run.failed, run.lapsed) == (0, 0, 0)
    assert smtp.inbox.messages == []
    assert {(n.status, n.attempts) for n in Notice.objects.all()} == {("pending", 0)}
    assert "could not read" in caplog.text

    monkeypatch.undo()
    assert notices.deliver(NEXT_NIGHT).sent == 2


def test_a_failed_audit_entry_leaves_the_sent_notices_pending_to_be_sent_again(
    people, smtp, monkeypatch, caplog
):
    """The mails went, but their records could not be written: the notices stay pending, with
    no entry in the trail, and the next run sends them again (at most a batch, `BATCH`)."""
    waiting(people)
    monkeypatch.setattr(audit, "append", fails)
    run = notices.run(FOURTEEN_DAYS_LEFT)
    assert (run.recorded, run.sent) == (2, 2)
    assert len(smtp.inbox.messages) == 2
    assert {(n.status, n.attempts, n.sent_to) for n in Notice.objects.all()} == {("pending", 0, "")}
    assert "could not record a batch of deliveries" in caplog.text

    monkeypatch.undo()
    run = notices.run(NEXT_NIGHT)
    assert (run.recorded, run.sent) == (0, 2)
    assert len(smtp.inbox.messages) == 4
    assert AuditEntry.objects.filter(action="notice_sent").count() == 2
    assert audit.verify_trail() == []


def test_with_neither_mail_server_nor_database_every_pending_notice_counts_as_failed(
    people, smtp, monkeypatch, caplog
):
    waiting(people)
    assert notices.record_due(FOURTEEN_DAYS_LEFT) == 2
    smtp.stop()
    monkeypatch.setattr(notices, "Ids", fails)  # noting the failures fails too
    run = notices.deliver(FOURTEEN_DAYS_LEFT)
    assert (run.sent, run.failed) == (0, 2)
    assert {(n.status, n.attempts, n.failure) for n in Notice.objects.all()} == {("pending", 0, "")}
    assert "could not note the failed deliveries" in caplog.text


# --- Recording ---------------------------------------------------------------------------------


def test_a_certificate_notice_waits_for_its_holder_to_have_an_address(people, pki, smtp):
    Person.objects.filter(pk=people.employee.pk).update(email="")
    [card] = bulk.cards(
        people.employee, people.orderer, 1, state="active", ordered_at=t.NEW_PROCESS
    )
    bulk.signature_certificate(
        card, pki.issuing["3"], issued=t.NEW_PROCESS, ends=t.sthlm(2026, 6, 30, 12)
    )
    assert notices.run(t.sthlm(2026, 6, 1, 2)).recorded == 0
    Person.objects.filter(pk=people.employee.pk).update(email=HOLDER)
    run = notices.run(t.sthlm(2026, 6, 2, 2))  # still in the 30-day window
    assert (run.recorded, run.sent) == (1, 1)
    notice = Notice.objects.get()
    assert (notice.kind, notice.days_before, notice.certificate.serial) == (
        "certificate_expiring",
        30,
        "5eed",
    )


def test_more_notices_than_one_statement_writes_are_all_recorded_once(people, monkeypatch):
    monkeypatch.setattr(notices, "CHUNK", 3)
    waiting(people, n=4)  # 8 notices: two full statements and one of two
    assert notices.record_due(FOURTEEN_DAYS_LEFT) == 8
    assert Notice.objects.count() == 8
    assert notices.record_due(FOURTEEN_DAYS_LEFT) == 0


def test_a_notice_of_a_kind_no_longer_known_is_noted_and_does_not_hold_up_the_others(people, smtp):
    """A pending row that this version cannot read (its kind was written by a later one, say)
    is noted as failed and stays pending; every other notice is sent as usual."""
    waiting(people)
    assert notices.record_due(FOURTEEN_DAYS_LEFT) == 2
    odd = Notice.objects.get(role="holder")
    Notice.objects.filter(pk=odd.pk).update(kind="card_melted")
    run = notices.deliver(FOURTEEN_DAYS_LEFT)
    assert (run.sent, run.failed) == (1, 1)
    odd.refresh_from_db()
    assert (odd.status, odd.attempts) == ("pending", 1)
    assert odd.failure == "ValueError: 'card_melted' is not a valid NoticeKind"
    assert [m["To"] for m in smtp.inbox.messages] == [MANAGER]
    # The next night the same: noted again, never sent, never in the way.
    run = notices.deliver(NEXT_NIGHT)
    assert (run.sent, run.failed) == (0, 1)
    odd.refresh_from_db()
    assert (odd.status, odd.attempts) == ("pending", 2)
