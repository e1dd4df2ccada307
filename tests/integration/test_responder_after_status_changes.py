"""The OCSP responder's first answer after a certificate's status changed, whatever changed it.

For each action that changes a status (a person's block, the R3 and R8 sweeps, a replacement,
an import of the people register that ends an employment, an activation, a hand-out, removing
or swapping an additional certificate), the responder has answered a question about the
certificate before the change, on demand and cached (`responder.signing`). After the change
commits, one poll of the store is enough for the next answer to carry the new status and
reason: the change moves its issuers' status revision on in its own transaction
(`status.change_status`), which drops the cached answers of those CAs.

Each answer is checked twice: by a poll right after the commit, before anything the change does
on commit (signing the new responses ahead) has run, as when a process dies in between; and
after that work, as relying parties normally see it.

The tests commit (transaction=True): the responder signs and reads in threads of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from django.db import connection, transaction

from ekort.responder.app import Responder
from ekort.responder.store import ResponseStore
from ekort.services import cards, deadlines
from ekort.services.ca import authority, holder_certificates, status
from ekort.services.ca.authority import certificate_of
from ekort.services.people_register import apply_records
from ekort.services.people_sources import csv_records
from ekort.store.models import Card, Certificate, CertificateAuthority, Unit
from tests import factories
from tests import instants as t
from tests.integration import bulk_cards as bulk
from tests.integration.journeys import PASSPORT, PIN, activated, sent
from tests.integration.test_concurrency_postgres import run_together
from tests.integration.test_ocsp_responder import SHA1, post, request_der

pytestmark = pytest.mark.django_db(transaction=True)

GOOD = ocsp.OCSPCertStatus.GOOD
REVOKED = ocsp.OCSPCertStatus.REVOKED
Flags = x509.ReasonFlags
HELD = (REVOKED, Flags.certificate_hold)
R3_OVER = t.sthlm(2024, 1, 23)  # the first instant after the last pick-up day
R8_OVER = t.AFTER_ACTIVATION_WINDOW
LATER = t.sthlm(2024, 3, 4, 10)
LEFT = t.sthlm(2024, 6, 1)  # the day after the last day of employment
FOREIGN = "Region Uppsala Person ID 3 CA v1"

Answer = tuple[ocsp.OCSPCertStatus, x509.ReasonFlags | None]


@pytest.fixture
def responder(world: Any) -> Iterator[Responder]:
    """A responder over what the database holds once `world` exists (the test's CAs)."""
    app = Responder(ResponseStore())
    app.store.load()
    yield app
    app.shutdown()


def question(record: Certificate, algorithm: hashes.HashAlgorithm = SHA1) -> bytes:
    issuer = certificate_of(CertificateAuthority.objects.get(pk=record.issuer_id))
    return request_der(x509.load_der_x509_certificate(bytes(record.der)), issuer, algorithm)


def answer(app: Responder, der: bytes) -> Answer:
    response = post(app, der)
    status = response.certificate_status
    return status, response.revocation_reason if status == REVOKED else None


def auth_certificate(card: Card) -> Certificate:
    return Certificate.objects.get(card=card, profile="auth")


def asked_then_changed(
    app: Responder, der: bytes, cached: Answer, change: Callable[[], object]
) -> list[Answer]:
    """Ask, so that the answer is cached; make the change; return the answer after one poll
    right after the commit (before the change's own on-commit work) and after that work."""
    app.store.poll()  # caught up with everything before
    assert answer(app, der) == cached
    assert app.signer.cached() >= 1
    seen: list[Answer] = []

    def right_after_the_commit() -> None:
        app.store.poll()
        seen.append(answer(app, der))

    with transaction.atomic():
        # Registered before the change's own: it runs first once the change commits.
        transaction.on_commit(right_after_the_commit)
        change()
    app.store.poll()
    seen.append(answer(app, der))
    return seen


def twice(expected: Answer) -> list[Answer]:
    return [expected, expected]


# --- the deadline sweeps ------------------------------------------------------------------


def test_the_r8_sweep_is_answered_with_its_reason_after_one_poll(world, responder):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    der = question(auth_certificate(card))
    seen = asked_then_changed(responder, der, HELD, lambda: deadlines.run_all(R8_OVER))
    assert seen == twice((REVOKED, Flags.cessation_of_operation))


def test_the_r3_sweep_is_answered_with_its_reason_after_one_poll(world, responder):
    card = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    assert card.state == "awaiting_pickup"
    der = question(auth_certificate(card))
    seen = asked_then_changed(responder, der, HELD, lambda: deadlines.run_all(R3_OVER))
    assert seen == twice((REVOKED, Flags.cessation_of_operation))


def test_a_sweep_moves_each_issuer_s_revision_on_once_per_chunk(world):
    """Not once per card: a million-card sweep stays a sweep of chunks."""
    holders = [
        factories.person(birth=birth, manager=world.manager, unit=world.unit)
        for birth in ("19800101", "19810202", "19820303")
    ]
    swept = [sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=p) for p in holders]
    issuer = auth_certificate(swept[0]).issuer
    assert {auth_certificate(card).issuer_id for card in swept} == {issuer.pk}
    before = issuer.status_revision
    assert deadlines.sweep_chunk(deadlines.SWEEPS[1], [c.pk for c in swept], R8_OVER) == 3
    issuer.refresh_from_db()
    assert issuer.status_revision == before + 1


# --- what people do -----------------------------------------------------------------------


def test_a_block_of_a_card_on_hold(world, responder):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    der = question(auth_certificate(card))

    def block() -> None:
        cards.block(
            actor=world.support, reason="lost", requested_by="Erik", now=LATER, card_ids=[card.pk]
        ).one()

    assert asked_then_changed(responder, der, HELD, block) == twice((REVOKED, Flags.key_compromise))


def test_a_block_of_an_active_card(world, responder):
    card = activated(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    # SHA-256 questions are answered on demand (stored responses are for SHA-1 CertIDs).
    der = question(auth_certificate(card), hashes.SHA256())

    def block() -> None:
        cards.block(
            actor=world.holder,
            reason="employment_ended",
            requested_by="Erik",
            now=LATER,
            card_ids=[card.pk],
        ).one()

    assert asked_then_changed(responder, der, (GOOD, None), block) == twice(
        (REVOKED, Flags.affiliation_changed)
    )


def test_a_replacement_of_a_lost_card(world, responder):
    card = activated(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    der = question(auth_certificate(card), hashes.SHA256())

    def replace() -> None:
        cards.replace_card(actor=world.orderer, reason="lost", now=LATER, card_ids=[card.pk]).one()

    assert asked_then_changed(responder, der, (GOOD, None), replace) == twice(
        (REVOKED, Flags.key_compromise)
    )


def test_an_activation(world, responder):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    der = question(auth_certificate(card))

    def activate() -> None:
        cards.activate(
            actor=world.id_admin, now=LATER, activations={card.pk: cards.Activation(PASSPORT, PIN)}
        ).one()

    assert asked_then_changed(responder, der, HELD, activate) == twice((GOOD, None))


def test_a_hand_out(world, responder):
    card = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    der = question(auth_certificate(card))
    handed_out_at = t.sthlm(2024, 1, 15, 10)

    def hand_out() -> None:
        done = cards.hand_out(
            actor=world.id_admin, now=handed_out_at, documents={card.pk: PASSPORT}
        ).one()
        if done.state == "awaiting_pickup":  # a reserve card at LoA3 takes a second (E11)
            cards.approve_hand_out(actor=world.id_admin_2, now=handed_out_at, card_ids=[card.pk])

    assert asked_then_changed(responder, der, HELD, hand_out) == twice((GOOD, None))


# --- the people register (`ekort people import`) -----------------------------------------


def test_an_import_that_ends_an_employment(world, responder):
    """E13: the import blocks the cards of a person whose employment ended, as a job."""
    unit = Unit.objects.create(
        organisation=world.unit.organisation, name="Akuten Gävle", hsa_id="SE2321000198-akut"
    )
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    der = question(auth_certificate(card))
    employee = world.employee
    text = (
        "identity_number,hsa_id,given_name,family_name,unit_hsa_id,employment_ends\n"
        f"{employee.identity_number},{employee.hsa_id},Erik,Eriksson,{unit.hsa_id},2024-05-31\n"
    )

    def run() -> None:
        report = apply_records(
            source="people-import:personal.csv", records=csv_records(text), now=LEFT
        )
        assert report.ended

    assert asked_then_changed(responder, der, HELD, run) == twice(
        (REVOKED, Flags.affiliation_changed)
    )


# --- the holder's additional certificate (R13) -------------------------------------------


@pytest.fixture
def additional(world: Any) -> Certificate:
    authority.init_foreign_issuer(
        name=FOREIGN, organisation="Region Uppsala", now=t.sthlm(2015, 1, 1)
    )
    card = activated(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    return holder_certificates.add_additional_certificate(
        actor=world.holder, card_id=card.pk, pin=PIN, issuer_name=FOREIGN, now=LATER
    )


def test_removing_the_additional_certificate(world, additional, responder):
    der = question(additional, hashes.SHA256())

    def remove() -> None:
        holder_certificates.remove_additional_certificate(
            actor=world.holder, card_id=additional.card_id, pin=PIN, now=LATER
        )

    assert asked_then_changed(responder, der, (GOOD, None), remove) == twice(
        (REVOKED, Flags.superseded)
    )


def test_swapping_the_additional_certificate(world, additional, responder):
    der = question(additional, hashes.SHA256())

    def swap() -> None:
        holder_certificates.add_additional_certificate(
            actor=world.holder,
            card_id=additional.card_id,
            pin=PIN,
            issuer_name=FOREIGN,
            now=LATER,
            swap=True,
        )

    assert asked_then_changed(responder, der, (GOOD, None), swap) == twice(
        (REVOKED, Flags.superseded)
    )


# --- locks --------------------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's row locks")
def test_two_changes_of_both_issuers_in_opposite_orders_take_turns(world):
    """One transaction changes a LoA3 certificate, then a LoA2 one (a set of activations of
    both levels, say); another the other way round, at the same time. Each locks the issuers
    of card certificates together at its first change, so the second waits for the first
    instead of both waiting for each other (PostgreSQL would end one with a deadlock)."""
    card = bulk.cards(world.employee, world.orderer, 1, state="sent_inactive", ordered_at=LATER)[0]
    loa3, loa2 = authority.issuing_ca("3"), authority.issuing_ca("2")
    first = {ca.pk: placeholder(card, ca, 0x7F00_0001) for ca in (loa3, loa2)}
    second = {ca.pk: placeholder(card, ca, 0x7F00_0002) for ca in (loa3, loa2)}
    before = {ca.pk: ca.status_revision for ca in (loa3, loa2)}

    def changes(order: list[CertificateAuthority], records: dict[int, Certificate]) -> object:
        def job() -> int:
            with transaction.atomic():
                for step, ca in enumerate(order):
                    if step:
                        time.sleep(0.3)  # the other transaction makes its first change now
                    status.change_status(
                        Certificate.objects.filter(pk=records[ca.pk].pk),
                        LATER,
                        status="revoked",
                        reason="cessation_of_operation",
                        sign_held=False,  # as the sweeps: nothing is signed on commit
                    )
            return len(order)

        return job

    results = run_together(changes([loa3, loa2], first), changes([loa2, loa3], second))
    assert results == [("ok", 2), ("ok", 2)]
    for ca in (loa3, loa2):
        ca.refresh_from_db()
        assert ca.status_revision == before[ca.pk] + 2
    assert set(Certificate.objects.filter(card=card).values_list("status", flat=True)) == {
        "revoked"
    }


def placeholder(card: Card, ca: CertificateAuthority, serial: int) -> Certificate:
    """A certificate record on hold, as issuance leaves one (its DER is not read here)."""
    return Certificate.objects.create(
        card=card,
        issuer=ca,
        profile="auth",
        serial=format(serial, "x"),
        subject=f"CN={serial}",
        not_before=LATER,
        not_after=LATER + timedelta(days=1000),
        der=b"\x30\x00",
        status="on_hold",
        status_changed_at=LATER,
    )
