"""What relying parties see when the deadline sweeps revoke certificates in bulk, and the audit
entries the sweeps append in bulk (`audit.append`).

A certificate on hold is already answered "revoked" (certificateHold: on demand from the
database, since production signs no response for it); the sweep leaves signing its new reason
to the publisher (`status.reconcile`, in `ekort jobs run` and `ekort ca publish`). A
certificate that was good is re-signed when the block commits, whoever blocks it.
"""

from __future__ import annotations

from datetime import date

import pytest
from cryptography import x509
from cryptography.x509 import ocsp

from ekort.domain.vocabulary import BlockReason
from ekort.services import audit, deadlines
from ekort.services.ca import status
from ekort.services.ca.revocation import revoke_cards
from ekort.store.models import AuditEntry, Certificate, OcspResponse
from tests import instants as t
from tests.integration.journeys import activated, sent

pytestmark = pytest.mark.django_db

MAY_FIRST = t.sthlm(2024, 5, 1)


def stored_status(cert: Certificate) -> tuple[ocsp.OCSPCertStatus, x509.ReasonFlags | None]:
    der = OcspResponse.objects.get(issuer_id=cert.issuer_id, serial=cert.serial).der
    response = ocsp.load_der_ocsp_response(bytes(der))
    return response.certificate_status, response.revocation_reason


def test_the_r8_sweep_leaves_held_responses_revoked_and_the_publisher_gives_the_reason(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    cert = Certificate.objects.get(card=card)
    assert cert.status == "on_hold"
    stored = OcspResponse.objects.filter(issuer_id=cert.issuer_id, serial=cert.serial)
    assert not stored.exists()  # on hold since production: answered on demand

    with django_capture_on_commit_callbacks(execute=True):
        assert {r.name: r.changed for r in deadlines.run_all(MAY_FIRST)}["not_activated"] == 1
    cert.refresh_from_db()
    assert (cert.status, cert.revocation_reason) == ("revoked", "cessation_of_operation")
    # The sweep signs nothing for it; the responder's on-demand answer reads the new status.
    assert not stored.exists()

    with django_capture_on_commit_callbacks(execute=True):
        status.publish_due(MAY_FIRST)
    assert stored_status(cert) == (
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.cessation_of_operation,
    )
    assert audit.verify_trail() == []


def test_a_good_certificate_is_answered_revoked_on_commit_even_when_held_ones_wait(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        card = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    cert = Certificate.objects.get(card=card)
    assert stored_status(cert)[0] == ocsp.OCSPCertStatus.GOOD

    with django_capture_on_commit_callbacks(execute=True):
        revoke_cards([card.pk], BlockReason.NOT_ACTIVATED, MAY_FIRST, resign_held=False)
    assert stored_status(cert) == (
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.cessation_of_operation,
    )


def test_bulk_entries_chain_like_single_ones(world):
    from django.db import transaction

    changes = [
        audit.Change(
            actor="job:test",
            action="block",
            object_type="card",
            object_id=str(n),
            at=MAY_FIRST,
            reason="R8: deadline passed",
            before={"state": "sent_inactive"},
            after={"state": "blocked", "card_number": f"97522100000000{n:02d}", "å": "ä"},
        )
        for n in range(3)
    ]
    with transaction.atomic():
        audit.append(changes[:1])
        assert audit.append(changes[1:]) == 2
        audit.append(changes[:1])
    assert audit.verify_trail() == []
    entries = list(AuditEntry.objects.filter(actor="job:test").order_by("seq"))
    assert [e.object_id for e in entries] == ["0", "1", "2", "0"]
    assert entries[2].after == changes[2].after
    assert entries[2].at == MAY_FIRST
    assert entries[2].prev_mac == entries[1].mac


def test_a_sweep_in_chunks_still_blocks_a_card_whose_deadline_is_today_not(world):
    due = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    assert due.activation_deadline == date(2024, 4, 30)
    assert r8_blocked(t.sthlm(2024, 4, 30, 23)) == 0
    assert r8_blocked(MAY_FIRST) == 1


def r8_blocked(now) -> int:
    return {r.name: r.changed for r in deadlines.run_all(now, chunk=1)}["not_activated"]
